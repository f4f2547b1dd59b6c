#include "sim/sim.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <random>

#include "util/units.h"

namespace ka::sim {
namespace {

// Uniform in [0, 1) from the generator's raw bits (the same on every standard library).
double Uniform(std::mt19937_64& g) { return static_cast<double>(g() >> 11) * 0x1.0p-53; }

}  // namespace

Result<NodeEvent> ParseNodeEvent(const std::string& text, int nodes) {
  constexpr double kMaxSeconds = 1e6;
  auto bad = [&] {
    return Status::Invalid("bad event '" + text +
                           "' (expected I@T: node I, 1-based, at T seconds; a failure may add /detect=D "
                           "and /relink=R, seconds)");
  };
  if (text.size() > 200) return bad();
  auto slash = text.find('/');
  std::string head = text.substr(0, slash);
  auto at = head.find('@');
  NodeEvent e;
  std::string rest;
  double node = 0;
  if (at == std::string::npos || !ParseLeadingNumber(head.substr(0, at), &node, &rest) || !rest.empty() ||
      node != std::floor(node) || !ParseLeadingNumber(head.substr(at + 1), &e.at, &rest) || !rest.empty() ||
      !(e.at <= kMaxSeconds))
    return bad();
  while (slash != std::string::npos) {
    auto next = text.find('/', slash + 1);
    std::string part = text.substr(slash + 1, next == std::string::npos ? std::string::npos : next - slash - 1);
    slash = next;
    auto eq = part.find('=');
    if (eq == std::string::npos) return bad();
    std::string key = part.substr(0, eq);
    double* field = key == "detect" ? &e.detect_s : key == "relink" ? &e.relink_s : nullptr;
    double v = 0;
    if (field == nullptr || *field >= 0 || !ParseLeadingNumber(part.substr(eq + 1), &v, &rest) || !rest.empty() ||
        !(v >= 0 && v <= kMaxSeconds))
      return bad();
    *field = v;
  }
  if (node < 1 || node > nodes)
    return Status::Invalid("node " + head.substr(0, at) + " in '" + text + "' is not between 1 and --nodes " +
                           std::to_string(nodes));
  e.node = static_cast<int>(node);
  return e;
}

Status Validate(const SimParams& p) {
  if (p.nodes < 1 || p.nodes > 1000000) return Status::Invalid("--nodes must be between 1 and 1000000");
  if (!(p.size_bytes > 0)) return Status::Invalid("--size must be positive");
  if (!(p.link_bps > 0)) return Status::Invalid("--link must be positive");
  if (p.uplink_bps < 0) return Status::Invalid("--uplink must be positive");
  if (p.latency_s < 0 || p.latency_s > 10) return Status::Invalid("--latency-ms must be between 0 and 10000");
  if (!(p.wire_efficiency > 0) || p.wire_efficiency > 1) return Status::Invalid("--wire-efficiency must be in (0, 1]");
  if (p.hop_bytes < 0) return Status::Invalid("--hop-bytes must be >= 0");
  if (p.hop_polls < 0 || p.hop_polls > 1000) return Status::Invalid("--hop-polls must be between 0 and 1000");
  if (p.chains < 0) return Status::Invalid("--chains must be >= 0 (0: automatic)");
  if (p.max_chain < 0) return Status::Invalid("--max-chain must be >= 0 (0: automatic)");
  if (!(p.buffer_bytes > 0)) return Status::Invalid("--buffer must be positive");
  if (!(p.sender_buffer_bytes > 0)) return Status::Invalid("--sender-buffer must be positive");
  if (p.startup_s < 0) return Status::Invalid("--startup must be >= 0");
  if (p.fail_rate < 0 || p.fail_rate > 1) return Status::Invalid("--fail-rate must be between 0 and 1");
  if (p.detect_s < 0) return Status::Invalid("--detect must be >= 0");
  if (p.relink_s < 0) return Status::Invalid("--relink must be >= 0");
  if (p.host_cores < 0) return Status::Invalid("--host-cores must be >= 0");
  if (p.cpu_hop < 0 || p.cpu_sender < 0 || p.cpu_last < 0)
    return Status::Invalid("--cpu-hop, --cpu-sender and --cpu-last must be >= 0");
  if (!(p.piece_bytes > 0)) return Status::Invalid("--piece must be positive");
  if (p.swarm_startup_s < 0) return Status::Invalid("--swarm-startup must be >= 0");
  if (!(p.swarm_efficiency > 0) || p.swarm_efficiency > 1)
    return Status::Invalid("--swarm-efficiency must be in (0, 1]");
  if (p.stripes < 0 || p.stripes > 64) return Status::Invalid("--stripes must be between 0 (automatic) and 64");
  if (p.forest_headroom < 0 || p.forest_headroom >= 1) return Status::Invalid("--forest-headroom must be in [0, 1)");
  if (p.dt < 0 || p.dt > 1) return Status::Invalid("--dt must be between 0 (automatic) and 1 s");
  for (auto* list : {&p.kills, &p.freezes, &p.lates})
    for (const auto& e : *list)
      if (e.node < 1 || e.node > p.nodes || e.at < 0)
        return Status::Invalid("event node " + std::to_string(e.node) + " is not between 1 and --nodes");
  return Status::Ok();
}

chain::Topology Plan(const SimParams& p) {
  std::vector<bool> late(static_cast<size_t>(p.nodes) + 1, false);
  for (const auto& e : p.lates) late[static_cast<size_t>(e.node)] = true;
  chain::TopologyInput in;
  in.nodes = static_cast<int>(std::count(late.begin() + 1, late.end(), false));
  in.link_bps = p.link_bps;
  in.uplink_bps = p.uplink_bps;
  in.chains = p.chains;
  in.max_chain = p.max_chain;
  in.fail_rate = p.fail_rate > 0 ? p.fail_rate : 0.01;
  in.freeze_stall_s = p.planner_stall_s;
  in.size_bytes = p.size_bytes;
  return chain::PlanTopology(in);
}

void DrawFailures(const SimParams& p, std::vector<NodeEvent>* kills, std::vector<NodeEvent>* freezes) {
  *kills = p.kills;
  *freezes = p.freezes;
  int count = static_cast<int>(std::lround(p.fail_rate * p.nodes));
  if (count <= 0) return;
  chain::Topology t = Plan(p);
  double rate =
      t.per_chain_bps > 0 ? t.per_chain_bps : std::min(p.link_bps, p.uplink_bps > 0 ? p.uplink_bps : p.link_bps);
  double duration = p.size_bytes * 8 / rate;
  std::mt19937_64 g(p.seed);
  std::vector<int> order(static_cast<size_t>(p.nodes));
  for (int i = 0; i < p.nodes; ++i) order[static_cast<size_t>(i)] = i + 1;
  for (int i = 0; i < count; ++i) {  // partial Fisher-Yates: `count` distinct nodes
    auto j = static_cast<size_t>(i) + static_cast<size_t>(Uniform(g) * (p.nodes - i));
    std::swap(order[static_cast<size_t>(i)], order[j]);
    NodeEvent e{order[static_cast<size_t>(i)], Uniform(g) * duration};
    (i % 2 == 0 ? kills : freezes)->push_back(e);
  }
}

FailureTimes TimesOf(const SimParams& p, const std::vector<NodeEvent>& kills, const std::vector<NodeEvent>& freezes) {
  FailureTimes t;
  auto n = static_cast<size_t>(std::max(p.nodes, 0));
  t.detect_s.assign(n, p.detect_s);
  t.relink_s.assign(n, p.relink_s);
  for (const auto* list : {&kills, &freezes})
    for (const auto& e : *list) {
      if (e.node < 1 || static_cast<size_t>(e.node) > n) continue;
      auto u = static_cast<size_t>(e.node - 1);
      if (e.detect_s >= 0) t.detect_s[u] = e.detect_s;
      if (e.relink_s >= 0) t.relink_s[u] = e.relink_s;
    }
  return t;
}

double StepFor(const SimParams& p, double expected_s) {
  if (p.dt > 0) return p.dt;
  double dt = 0.005;
  double work = static_cast<double>(p.nodes) * expected_s / dt;
  if (work > 2e8) dt = std::min(0.02, dt * work / 2e8);
  return dt;
}

void ControlLoad(const SimParams& p, int nodes, int fed, SimResult* r) {
  double control = std::min(p.heartbeat_hz * nodes, p.control_rate);
  r->sender_msgs_per_s = control + p.heartbeat_hz * fed;
  r->sender_msgs_sent_per_s = control;
}

void Summarize(const SimParams& p, SimResult* r) {
  std::vector<double> done;
  r->survivors = r->failed = r->incomplete = 0;
  for (const auto& n : r->nodes) {
    if (n.failed) {
      ++r->failed;
      continue;
    }
    ++r->survivors;
    if (n.done_s < 0)
      ++r->incomplete;
    else
      done.push_back(n.done_s);
  }
  std::sort(done.begin(), done.end());
  r->total_s = done.empty() ? 0 : done.back();
  double sum = 0;
  for (double d : done) sum += d;
  r->mean_s = done.empty() ? 0 : sum / static_cast<double>(done.size());
  // p99: the nearest-rank percentile.
  r->p99_s = done.empty() ? 0 : done[static_cast<size_t>(std::ceil(0.99 * static_cast<double>(done.size()))) - 1];
  double up = p.uplink_bps > 0 ? p.uplink_bps : p.link_bps;
  r->ideal_s = p.size_bytes * 8 / std::min(p.link_bps, up);
  r->ratio = r->ideal_s > 0 ? r->total_s / r->ideal_s : 0;
}

}  // namespace ka::sim
