#include "cli/sim_cmd.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "sim/sim.h"
#include "util/units.h"

namespace ka::cli {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kFooter = R"(
A model, not a measurement: a time-stepped fluid simulation of the chain as built (rings, the keep
rule, one sender ring shared by the chains, kills, freezes, re-links, branches) and of a
BitTorrent-like swarm. docs/scale.md describes every rule and where the model is crude.

SIZE: 1048576, 64M, 10G (binary units). RATE: tc syntax, 100mbit, 1gbit, 2.5gbit, 10gbit, or bits/s.
I@T: node I (1-based, in locality order) T seconds after the stream start. A kill or freeze may
add what a bed measured for it: /detect=D (the freeze dropped D s after it, instead of --detect)
and /relink=R (its successor reading again R s after the failure is known, instead of --relink),
e.g. --freeze 70@8/detect=1.47/relink=0.08.

Examples:
  ka sim --nodes 100 --size 10G --link 1gbit                       # one chain of 100
  ka sim --nodes 10000 --size 10G --link 1gbit --uplink 10gbit --fail-rate 0.01 --mode auto
  ka sim --nodes 10 --size 2G --link 1gbit --freeze 5@3 --buffer 64M
  ka sim --nodes 100 --size 1G --link 1gbit --host-cores 2 --json   # the namespace bed on 2 cores
)";

struct Bad {
  std::string message;
};

double Number(const std::string& opt, const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v))
    throw Bad{opt + ": bad number '" + text + "'"};
  return v;
}

int Integer(const std::string& opt, const std::string& text) {
  double v = Number(opt, text);
  if (v != std::floor(v) || std::fabs(v) > 1e9) throw Bad{opt + ": expected a whole number, got '" + text + "'"};
  return static_cast<int>(v);
}

double Size(const std::string& opt, const std::string& text) {
  auto v = ParseSize(text);
  if (!v.ok()) throw Bad{opt + ": " + v.status().message()};
  return static_cast<double>(*v);
}

double Rate(const std::string& opt, const std::string& text) {
  auto v = ParseRate(text);
  if (!v.ok()) throw Bad{opt + ": " + v.status().message()};
  return *v;
}

std::string FormatRate(double bps) {
  char buf[32];
  if (bps >= 1e9)
    std::snprintf(buf, sizeof buf, "%g Gbit/s", bps / 1e9);
  else if (bps >= 1e6)
    std::snprintf(buf, sizeof buf, "%g Mbit/s", bps / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%g bit/s", bps);
  return buf;
}

// 3 decimals: enough for a model, short for a reader.
double R3(double v) { return std::round(v * 1000) / 1000; }

Json ToJson(const sim::SimResult& r, bool per_node) {
  Json j;
  j["mode"] = r.mode;
  j["chains"] = r.topology.chains;
  j["lengths"] = r.topology.lengths;
  j["per_chain_bps"] = r.topology.per_chain_bps;
  j["why"] = r.topology.why;
  j["total_s"] = R3(r.total_s);
  j["mean_s"] = R3(r.mean_s);
  j["p99_s"] = R3(r.p99_s);
  j["stall_s"] = R3(r.stall_s);
  j["ideal_s"] = R3(r.ideal_s);
  j["ratio"] = R3(r.ratio);
  j["survivors"] = r.survivors;
  j["failed"] = r.failed;
  j["incomplete"] = r.incomplete;
  j["branches"] = r.branches;
  j["sender_msgs_per_s"] = R3(r.sender_msgs_per_s);
  j["sender_msgs_sent_per_s"] = R3(r.sender_msgs_sent_per_s);
  if (r.mode == "forest") {
    j["stripes"] = r.stripes;
    j["depth"] = r.depth;
    j["overloads"] = r.overloads;
  }
  j["dt"] = r.dt;
  j["wall_s"] = R3(r.wall_s);
  if (per_node) {
    Json nodes = Json::array();
    for (size_t i = 0; i < r.nodes.size(); ++i) {
      const auto& n = r.nodes[i];
      Json o;
      o["node"] = i + 1;
      o["done_s"] = n.done_s < 0 ? Json(nullptr) : Json(R3(n.done_s));
      o["failed"] = n.failed;
      o["max_stall_s"] = R3(n.max_stall_s);
      if (r.mode == "chain") o["chain"] = n.chain;
      if (r.mode != "swarm") o["branch"] = n.branch;
      nodes.push_back(o);
    }
    j["per_node"] = nodes;
  }
  return j;
}

void PrintRow(const sim::SimResult& r) {
  std::printf("%-6s %9.2f %8.2f %8.2f %8.2f %8.2f %6.3f %9d %7d %10.0f\n", r.mode.c_str(), r.total_s, r.mean_s, r.p99_s,
              r.stall_s, r.ideal_s, r.ratio, r.survivors, r.failed, r.sender_msgs_per_s);
  if (r.incomplete > 0) std::printf("       %d survivor(s) never completed (stuck)\n", r.incomplete);
}

}  // namespace

SimCommand::SimCommand(CLI::App& app) {
  cmd_ = app.add_subcommand("sim", "Simulate a session at scale: chains or a swarm, with faults (a model)");
  cmd_->footer(kFooter);
  cmd_->add_option("--nodes", nodes_, "Receivers (required)");
  cmd_->add_option("--size", size_, "Stream size, e.g. 10G (required)");
  cmd_->add_option("--link", link_, "Every node's link, each direction, e.g. 1gbit (required)");
  cmd_->add_option("--uplink", uplink_, "The sender's link (default: --link)");
  cmd_->add_option("--latency-ms", latency_ms_, "One-way latency per hop, ms")->capture_default_str();
  cmd_->add_option("--wire-efficiency", wire_efficiency_,
                   "Payload per bit of link rate, (0, 1]: 1448/1538 for TCP on Ethernet at MTU 1500; 1448/1514 "
                   "on a tc tbf link")
      ->capture_default_str();
  cmd_->add_option("--hop-bytes", hop_bytes_,
                   "What a hop holds before the next has it (relay batches, socket buffers) with the relay's "
                   "default batch: a delay of SIZE / rate per hop, measured on the bed at 1 Gbit/s")
      ->capture_default_str();
  cmd_->add_option("--hop-polls", hop_polls_,
                   "At most this many relay polls' worth per hop (slow links wake the relay on its poll "
                   "before a batch is in), measured on the bed at 100 and 50 Mbit/s; 0: no cap")
      ->capture_default_str();
  cmd_->add_option("--mode", mode_, "chain, swarm, forest, or auto (all three; the fastest is chosen)")
      ->capture_default_str();
  cmd_->add_option("--chains", chains_, "Chains fed at once (0: the planner decides)")->capture_default_str();
  cmd_->add_option("--max-chain", max_chain_, "Most nodes in one chain (0: the planner decides)")
      ->capture_default_str();
  cmd_->add_option("--buffer", buffer_, "Each node's ring (replay window)")->capture_default_str();
  cmd_->add_option("--sender-buffer", sender_buffer_, "The sender's ring, shared by its chains")->capture_default_str();
  cmd_->add_option("--startup", startup_, "Seconds from the sender's start to the first byte")->capture_default_str();
  cmd_->add_option("--kill", kills_, "Kill node I at T s after the stream start: I@T[/relink=R] (repeatable)")
      ->allow_extra_args(false);
  cmd_->add_option("--freeze", freezes_, "Freeze node I at T s: I@T[/detect=D][/relink=R] (repeatable)")
      ->allow_extra_args(false);
  cmd_->add_option("--late", lates_, "Node I joins T s after the stream start: I@T (repeatable)")
      ->allow_extra_args(false);
  cmd_->add_option("--fail-rate", fail_rate_, "Fraction of nodes drawn to fail (half kills, half freezes)")
      ->capture_default_str();
  cmd_->add_option("--seed", seed_, "Seed of the --fail-rate draw")->capture_default_str();
  cmd_->add_option("--detect", detect_,
                   "Seconds until a frozen node is dropped (real: ka send --freeze-detect, 1.5 by default, up to "
                   "--node-timeout)")
      ->capture_default_str();
  cmd_->add_option("--control-rate", control_rate_,
                   "Control heartbeats a second the sender takes in all (ka send --control-rate): the sender's "
                   "message load in the output")
      ->capture_default_str();
  cmd_->add_option("--relink", relink_, "Seconds from a failure known to the successor reading again")
      ->capture_default_str();
  cmd_->add_option("--host-cores", host_cores_, "Cores shared by every node (0: each node its own machine)")
      ->capture_default_str();
  cmd_->add_option("--cpu-hop", cpu_hop_, "CPU-s per GiB of a forwarding node")->capture_default_str();
  cmd_->add_option("--cpu-sender", cpu_sender_, "CPU-s per GiB of the sender")->capture_default_str();
  cmd_->add_option("--cpu-last", cpu_last_, "CPU-s per GiB of a last node")->capture_default_str();
  cmd_->add_option("--piece", piece_, "Swarm piece size")->capture_default_str();
  cmd_->add_option("--swarm-startup", swarm_startup_, "Swarm: seconds before a peer downloads")->capture_default_str();
  cmd_->add_option("--swarm-efficiency", swarm_efficiency_, "Swarm: fraction of link rate achieved, (0, 1]")
      ->capture_default_str();
  cmd_->add_option("--stripes", stripes_,
                   "Forest: stripes, each down its own tree of that fan-out (0: the k in 2..8 with the least total)")
      ->capture_default_str();
  cmd_->add_option("--forest-headroom", forest_headroom_,
                   "Forest: share of the link the stream leaves unused, [0, 1): stalled stripes catch up with it")
      ->capture_default_str();
  cmd_->add_option("--dt", dt_, "Time step, s (0: automatic, 5 ms or more for huge runs)")->capture_default_str();
  cmd_->add_flag("!--no-splice", splice_,
                 "Relays copy (ka receive --no-splice): no pause while a re-linked child catches up");
  cmd_->add_flag("--json", json_, "Print one JSON object");
  cmd_->add_flag("--per-node", per_node_, "With --json: every node's completion, stall and chain");
}

bool SimCommand::parsed() const { return cmd_->parsed(); }

int SimCommand::Run() {
  sim::SimParams p;
  try {
    if (nodes_.empty()) throw Bad{"--nodes is required"};
    if (size_.empty()) throw Bad{"--size is required"};
    if (link_.empty()) throw Bad{"--link is required"};
    p.nodes = Integer("--nodes", nodes_);
    if (p.nodes < 1 || p.nodes > 1000000) throw Bad{"--nodes must be between 1 and 1000000"};
    p.size_bytes = Size("--size", size_);
    p.link_bps = Rate("--link", link_);
    p.uplink_bps = uplink_.empty() ? p.link_bps : Rate("--uplink", uplink_);
    p.latency_s = Number("--latency-ms", latency_ms_) / 1000;
    p.wire_efficiency = Number("--wire-efficiency", wire_efficiency_);
    p.hop_bytes = Size("--hop-bytes", hop_bytes_);
    p.hop_polls = Number("--hop-polls", hop_polls_);
    if (mode_ != "chain" && mode_ != "swarm" && mode_ != "forest" && mode_ != "auto")
      throw Bad{"--mode: expected chain, swarm, forest or auto, got '" + mode_ + "'"};
    p.chains = Integer("--chains", chains_);
    p.max_chain = Integer("--max-chain", max_chain_);
    p.buffer_bytes = Size("--buffer", buffer_);
    p.sender_buffer_bytes = Size("--sender-buffer", sender_buffer_);
    p.startup_s = Number("--startup", startup_);
    auto events = [&](const char* opt, const std::vector<std::string>& in, std::vector<sim::NodeEvent>* out) {
      for (const auto& text : in) {
        auto e = sim::ParseNodeEvent(text, p.nodes);
        if (!e.ok()) throw Bad{std::string(opt) + ": " + e.status().message()};
        if (out == &p.lates && (e->detect_s >= 0 || e->relink_s >= 0))
          throw Bad{std::string(opt) + ": '" + text + "': a late join takes I@T only"};
        if (out == &p.kills && e->detect_s >= 0)
          throw Bad{std::string(opt) + ": '" + text + "': a kill is known at once (no /detect=)"};
        out->push_back(*e);
      }
    };
    events("--kill", kills_, &p.kills);
    events("--freeze", freezes_, &p.freezes);
    events("--late", lates_, &p.lates);
    p.fail_rate = Number("--fail-rate", fail_rate_);
    double seed = Number("--seed", seed_);
    if (seed < 0 || seed != std::floor(seed)) throw Bad{"--seed: expected a whole number >= 0"};
    p.seed = static_cast<uint64_t>(seed);
    p.detect_s = Number("--detect", detect_);
    p.control_rate = Number("--control-rate", control_rate_);
    p.relink_s = Number("--relink", relink_);
    p.host_cores = Integer("--host-cores", host_cores_);
    p.cpu_hop = Number("--cpu-hop", cpu_hop_);
    p.cpu_sender = Number("--cpu-sender", cpu_sender_);
    p.cpu_last = Number("--cpu-last", cpu_last_);
    p.piece_bytes = Size("--piece", piece_);
    p.swarm_startup_s = Number("--swarm-startup", swarm_startup_);
    p.swarm_efficiency = Number("--swarm-efficiency", swarm_efficiency_);
    p.stripes = Integer("--stripes", stripes_);
    p.forest_headroom = Number("--forest-headroom", forest_headroom_);
    p.dt = Number("--dt", dt_);
    p.splice = splice_;
    if (Status s = sim::Validate(p); !s.ok()) throw Bad{s.message()};
  } catch (const Bad& b) {
    std::fprintf(stderr, "ka sim: %s\n", b.message.c_str());
    return 2;
  }

  std::vector<sim::SimResult> results;
  if (mode_ == "chain" || mode_ == "auto") results.push_back(sim::RunChain(p));
  if (mode_ == "swarm" || mode_ == "auto") results.push_back(sim::RunSwarm(p));
  if (mode_ == "forest" || mode_ == "auto") results.push_back(sim::RunForest(p));
  // auto: the fastest (every survivor done first; a run that left survivors stuck loses).
  auto worse = [](const sim::SimResult& a, const sim::SimResult& b) {
    if ((a.incomplete > 0) != (b.incomplete > 0)) return a.incomplete > 0;
    return a.total_s > b.total_s;
  };
  size_t best = 0;
  for (size_t i = 1; i < results.size(); ++i)
    if (worse(results[best], results[i])) best = i;
  const sim::SimResult& chosen = results[best];

  if (json_) {
    Json j = ToJson(chosen, per_node_ && mode_ != "auto");
    j["mode"] = mode_;
    j["chosen"] = chosen.mode;
    Json in;
    in["nodes"] = p.nodes;
    in["size_bytes"] = p.size_bytes;
    in["link_bps"] = p.link_bps;
    in["uplink_bps"] = p.uplink_bps;
    in["latency_s"] = p.latency_s;
    in["wire_efficiency"] = p.wire_efficiency;
    in["hop_bytes"] = p.hop_bytes;
    in["hop_polls"] = p.hop_polls;
    in["buffer_bytes"] = p.buffer_bytes;
    in["sender_buffer_bytes"] = p.sender_buffer_bytes;
    in["startup_s"] = p.startup_s;
    in["detect_s"] = p.detect_s;
    in["relink_s"] = p.relink_s;
    in["fail_rate"] = p.fail_rate;
    in["seed"] = p.seed;
    in["host_cores"] = p.host_cores;
    in["stripes"] = p.stripes;
    in["forest_headroom"] = p.forest_headroom;
    j["input"] = in;
    if (mode_ == "auto")
      for (const auto& r : results) j[r.mode] = ToJson(r, per_node_);
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("ka sim (a model, docs/scale.md): %d nodes, %s, link %s, uplink %s, latency %g ms\n", p.nodes,
              FormatBytes(static_cast<uint64_t>(p.size_bytes)).c_str(), FormatRate(p.link_bps).c_str(),
              FormatRate(p.uplink_bps).c_str(), p.latency_s * 1000);
  for (const auto& r : results)
    if (r.mode == "chain") {
      std::string lengths;
      for (size_t c = 0; c < r.topology.lengths.size() && c < 8; ++c)
        lengths += (c ? " " : "") + std::to_string(r.topology.lengths[c]);
      if (r.topology.lengths.size() > 8) lengths += " ...";
      std::printf("topology: %d chain(s) of %s nodes at %s each; %s\n", r.topology.chains, lengths.c_str(),
                  FormatRate(r.topology.per_chain_bps).c_str(), r.topology.why.c_str());
    } else if (r.mode == "forest") {
      std::printf("topology: %s\n", r.topology.why.c_str());  // k, fan-out, depth, each stripe's share
    }
  std::printf("%-6s %9s %8s %8s %8s %8s %6s %9s %7s %10s\n", "mode", "total s", "mean s", "p99 s", "stall s", "ideal s",
              "ratio", "survivors", "failed", "sender m/s");
  for (const auto& r : results) PrintRow(r);
  if (results.size() > 1) std::printf("chosen: %s\n", chosen.mode.c_str());
  return 0;
}

}  // namespace ka::cli
