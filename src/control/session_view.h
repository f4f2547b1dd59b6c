// What the web dashboard reads of a running session: a JSON snapshot and the log lines of
// each node. The server side of a session implements it; the dashboard (web_server.h) only
// reads through it, from its own worker threads, so implementations must be thread-safe.
//
// Snapshot schema (docs/dashboard.md): {"session", "session_id", "source", "phase", "elapsed",
// "total_bytes" (null when unknown), "sent_bytes", "chain": [names], "exec_enabled",
// "nodes": [{"name", "address", "position", "state", "detail", "bytes", "rate_bps",
// "eta_s" (or null), "error", "last_message", "updated"}], "throughput": [{"t", "bytes_per_s"}]}.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "util/status.h"

namespace ka::control {

class SessionView {
 public:
  virtual ~SessionView() = default;
  // The session now, as JSON (schema above).
  virtual nlohmann::json Snapshot() const = 0;
  // Log lines of one node from line index `from` on (at most `max`); `next` is the index after the last returned.
  // Unknown node: Status Invalid.
  virtual Result<std::vector<std::string>> Log(const std::string& node, uint64_t from, size_t max,
                                               uint64_t* next) const = 0;
};

}  // namespace ka::control
