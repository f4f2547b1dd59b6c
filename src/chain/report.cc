#include "chain/report.h"

#include <fmt/format.h>

#include <algorithm>

#include "util/units.h"

namespace ka::chain {

double NodeReport::StreamSeconds() const {
  auto it = phases.find("stream");
  return it != phases.end() && it->second > 0 ? it->second : seconds;
}

bool SessionReport::AllOk() const {
  if (!error.empty() || nodes.empty()) return false;
  for (const auto& n : nodes)
    if (!n.ok) return false;
  return true;
}

nlohmann::json SessionReport::ToJson() const {
  nlohmann::json j;
  j["session"] = session;
  j["session_id"] = session_id;
  j["source"] = source;
  j["bytes"] = bytes;
  j["seconds"] = seconds;
  j["session_seconds"] = session_seconds;
  j["throughput_mib_s"] = ThroughputMiBs();
  j["digest"] = digest;
  j["digest_mode"] = digest_mode;
  if (!payload_sha256.empty()) j["payload_sha256"] = payload_sha256;
  j["cipher"] = cipher;
  j["signed_by"] = signed_by.empty() ? nlohmann::json(nullptr) : nlohmann::json(signed_by);
  if (!error.empty()) j["error"] = error;
  j["nodes"] = nlohmann::json::array();
  j["ok"] = nlohmann::json::array();
  j["ko"] = nlohmann::json::array();
  for (const auto& n : nodes) {
    j["nodes"].push_back(
        {{"id", n.id},
         {"name", n.name},
         {"address", n.address},
         {"mac", n.mac},
         {"position", n.position},
         {"chain", n.chain},
         {"status", n.ok ? "ok" : "failed"},
         {"bytes", n.bytes},
         {"digest", n.digest},
         {"seconds", n.seconds},
         {"stream_seconds", n.StreamSeconds()},
         {"stream_mib_s", n.StreamSeconds() > 0 ? static_cast<double>(n.bytes) / 1048576.0 / n.StreamSeconds() : 0},
         {"phases", n.phases},
         {"max_heartbeat_gap_s", n.max_heartbeat_gap},
         {"held_back_s", n.held_back_s},
         {"held_back_by", n.held_back_by.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.held_back_by)},
         {"error", n.error}});
    if (n.ok) j["ok"].push_back(n.name);
    else j["ko"].push_back({{"name", n.name}, {"reason", n.error}, {"offset", n.bytes}});
  }
  if (extra.is_object())
    for (auto& [k, v] : extra.items()) j[k] = v;
  return j;
}

std::string SessionReport::SummaryText() const {
  std::string s;
  s += fmt::format("session '{}' ({}): {} from {} in {:.2f} s, {:.1f} MiB/s per node\n", session, session_id,
                   FormatBytes(bytes), source, seconds, ThroughputMiBs());
  if (!error.empty()) s += fmt::format("session error: {}\n", error);
  s += fmt::format("frames sealed with {}{}{}\n", cipher.empty() ? "?" : cipher,
                   signed_by.empty() ? std::string(", not signed") : ", signed by " + signed_by,
                   payload_sha256.empty() ? std::string() : ", payload sha256 " + payload_sha256);
  // With several chains fed at once, a column says which one each node was in.
  bool chains = std::any_of(nodes.begin(), nodes.end(), [](const NodeReport& n) { return n.chain > 1; });
  auto chain_col = [&](const std::string& c) { return chains ? fmt::format("{:>5}  ", c) : std::string(); };
  s += fmt::format("{:>3}  {}{:<16} {:<22} {:<6} {:>12} {:>8}  {}\n", "#", chain_col("chain"), "node", "address",
                   "result", "bytes", "MiB/s", "detail");
  int ok = 0;
  for (const auto& n : nodes) {
    double rate = n.StreamSeconds() > 0 ? static_cast<double>(n.bytes) / 1048576.0 / n.StreamSeconds() : 0;
    s += fmt::format("{:>3}  {}{:<16} {:<22} {:<6} {:>12} {:>8.1f}  {}\n", n.position,
                     chain_col(std::to_string(n.chain)), n.name, n.address, n.ok ? "OK" : "KO", n.bytes, rate,
                     n.ok ? ("digest " + n.digest.substr(0, 16)) : n.error);
    ok += n.ok;
  }
  s += fmt::format("OK {} / KO {} of {} nodes\n", ok, static_cast<int>(nodes.size()) - ok, nodes.size());
  for (const auto& n : nodes)
    if (n.held_back_s > 0)
      s += fmt::format("{} held its chain back for {:.0f} s ({}): the nodes of its chain went at its pace\n", n.name,
                       n.held_back_s, n.held_back_by == "output" ? "its output: a slow disk?" : "its link or its CPU");
  s += extra_text;
  return s;
}

}  // namespace ka::chain
