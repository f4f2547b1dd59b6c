// What `ka status` prints for a session snapshot (see control/snapshot.h), in the style of
// the end-of-session summary of chain/report.cc.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ka::control {

inline constexpr size_t kStatusTableWidth = 160;

// Header (session, id, source, phase, elapsed, bytes sent, chain order "sender -> node1 ->
// node2"), then a table aligned on its widest cells, one row per node by position:
// "#  node  address  state  progress  rate  eta  last message", progress as "45% 55.0 MiB"
// (bytes only when the total is unknown). The message comes last and is cut so that no line
// is wider than kStatusTableWidth columns.
std::string RenderStatusTable(const nlohmann::json& snapshot);

// OK (state "done") or KO per node with its throughput (bytes over the session time of its
// last update, else its rate) and the reason of a KO, then "OK n / KO m of k nodes".
std::string RenderFinalSummary(const nlohmann::json& snapshot);

}  // namespace ka::control
