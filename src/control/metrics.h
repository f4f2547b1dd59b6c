// The dashboard's `/metrics` (web_server.h): a session snapshot (session_view.h) in the
// Prometheus text exposition format 0.0.4, for a Prometheus server to scrape. A pure function,
// so that the exact text is tested without a server. The metrics, their types and labels are
// listed in docs/dashboard.md §7.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace ka::control {

// The Content-Type of RenderMetrics' text.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// The snapshot as metric families (HELP, TYPE, then the samples), session first, then per node
// in the snapshot's order. Read by ReadSnapshot (snapshot.h) with the text raw: a missing,
// mistyped or impossible value (a negative or non-finite count, rate or time, bytes past 2^64)
// leaves its sample out (or counts 0), never throws; fractional bytes or position are cut.
// Label values keep the names as they are ("" when missing), escaped per the format
// (\\, \", \n); bytes that are not valid UTF-8 become U+FFFD. A node whose labels repeat an
// earlier node's (only possible after that replacement) is left out, so no series is doubled.
std::string RenderMetrics(const nlohmann::json& snapshot);

// A label value as the format writes it between the quotes: '\\' -> "\\\\", '"' -> "\\\"",
// newline -> "\\n", invalid UTF-8 -> U+FFFD.
std::string EscapeLabelValue(std::string_view value);

}  // namespace ka::control
