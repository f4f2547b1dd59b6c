// Read access to a running session for the dashboard, `ka status` and the
// terminal progress: a JSON snapshot (schema in docs/dashboard.md) and the log
// lines of each node.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/status.h"

namespace ka::control {

class SessionView {
 public:
  virtual ~SessionView() = default;
  // The session now, as JSON (schema below).
  virtual nlohmann::json Snapshot() const = 0;
  // Log lines of one node from line index `from` on (at most `max`); `next` is the index after the last returned.
  // Unknown node: Status Invalid.
  virtual Result<std::vector<std::string>> Log(const std::string& node, uint64_t from, size_t max,
                                               uint64_t* next) const = 0;
};

}  // namespace ka::control
