// A session snapshot (the JSON the server publishes for `ka status` and its own progress view)
// read defensively into plain values: a missing or mistyped field becomes "unknown" (nullopt,
// or "-" for text), never an exception. Text fields are sanitized for terminals (control/text.h).
// ReadOptions is for a reader with a format of its own (the dashboard's /metrics): raw text,
// another placeholder than "-", the snapshot's node order, a total of 0 kept.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ka::control {

inline constexpr const char* kUnknown = "-";

struct NodeView {
  std::string name = kUnknown;
  std::string address = kUnknown;
  std::string state = kUnknown;
  std::string detail;
  std::string error;
  std::string last_message;
  std::optional<int64_t> position;
  std::optional<uint64_t> bytes;
  std::optional<double> rate_bps;
  std::optional<double> eta_s;
  std::optional<double> updated;

  bool failed() const { return state == "failed"; }
  bool done() const { return state == "done"; }
  // "FAILED: reason" for a failed node, else the last message (or the detail when there is none).
  std::string Message() const;
};

struct SnapshotView {
  std::string session = kUnknown;
  std::string session_id = kUnknown;
  std::string source = kUnknown;
  std::string phase = kUnknown;
  std::optional<double> elapsed;
  std::optional<uint64_t> total_bytes;  // nullopt when unknown (null, missing or 0; ReadOptions)
  std::optional<uint64_t> sent_bytes;
  std::vector<std::string> chain;
  bool exec_enabled = false;
  std::vector<NodeView> nodes;           // by position; nodes without one keep their order, last (ReadOptions)
  std::optional<double> throughput_bps;  // the last throughput sample

  // The least bytes received by a node that has not failed (the chain is as far as its
  // slowest member), else sent_bytes.
  std::optional<uint64_t> OverallBytes() const;
  int FailedCount() const;
};

// How ReadSnapshot reads. The defaults are for a terminal (`ka status`, the progress views);
// numbers are checked the same way in every case (a negative, non-finite or mistyped one is
// nullopt).
struct ReadOptions {
  // Text as the snapshot has it (control characters, invalid UTF-8 and all) instead of
  // SanitizeText's: only for a caller that escapes it for its own format (RenderMetrics).
  bool raw_text = false;
  // What a missing or mistyped text field becomes, and also a node's empty name, address or
  // state (an empty session, session_id, source or phase stays empty). Never sanitized.
  std::string_view unknown_text = kUnknown;
  // Nodes in the snapshot's order (the server's: by position, then name) instead of sorted
  // by position here.
  bool snapshot_order = false;
  // total_bytes 0 is unknown (nullopt), as the views show it; false keeps it as 0.
  bool zero_total_unknown = true;
};

SnapshotView ReadSnapshot(const nlohmann::json& snapshot, const ReadOptions& options = {});

// Formatting shared by the views; each returns "-" for an unknown value.
// Whole percent, 100 only when complete; nullopt when bytes or total is unknown.
std::optional<int> Percent(std::optional<uint64_t> bytes, std::optional<uint64_t> total);
std::string FormatPercent(std::optional<int> percent);  // "45%"
std::string FormatRate(std::optional<double> bytes_per_s);  // "110.2 MiB/s"
std::string FormatEta(std::optional<double> seconds);  // "0:03", "12:34", "1:02:03"
std::string FormatElapsed(std::optional<double> seconds);  // "12.5s", "2m05s", "1h02m05s"
std::string FormatBytesOr(std::optional<uint64_t> bytes);  // FormatBytes or "-"

}  // namespace ka::control
