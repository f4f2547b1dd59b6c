#include "control/snapshot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "control/text.h"
#include "util/units.h"

namespace ka::control {
namespace {

using nlohmann::json;

const json* Field(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// A string (sanitized unless raw_text), else `fallback`.
std::string TextOr(const json* v, const ReadOptions& o, std::string_view fallback) {
  if (v == nullptr || !v->is_string()) return std::string(fallback);
  const auto& s = v->get_ref<const std::string&>();
  return o.raw_text ? s : SanitizeText(s);
}

std::string Text(const json& object, const char* key, const ReadOptions& o, std::string_view fallback) {
  return TextOr(Field(object, key), o, fallback);
}

// A node's name, address or state: unknown_text also when empty.
std::string NonEmptyText(const json& object, const char* key, const ReadOptions& o) {
  std::string s = Text(object, key, o, o.unknown_text);
  return s.empty() ? std::string(o.unknown_text) : s;
}

std::optional<double> Number(const json& object, const char* key) {
  const json* v = Field(object, key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  double d = v->get<double>();
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

std::optional<double> NonNegative(const json& object, const char* key) {
  auto d = Number(object, key);
  if (!d || *d < 0) return std::nullopt;
  return d;
}

std::optional<uint64_t> Bytes(const json& object, const char* key) {
  const json* v = Field(object, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  if (v->is_number_integer()) {
    int64_t i = v->get<int64_t>();
    return i < 0 ? std::nullopt : std::optional<uint64_t>(static_cast<uint64_t>(i));
  }
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (!std::isfinite(d) || d < 0 || d >= 18446744073709551616.0) return std::nullopt;
    return static_cast<uint64_t>(d);
  }
  return std::nullopt;
}

NodeView ReadNode(const json& j, const ReadOptions& o) {
  NodeView n;
  n.name = NonEmptyText(j, "name", o);
  n.address = NonEmptyText(j, "address", o);
  n.state = NonEmptyText(j, "state", o);
  n.detail = Text(j, "detail", o, "");
  n.error = Text(j, "error", o, "");
  n.last_message = Text(j, "last_message", o, "");
  if (auto p = Number(j, "position"); p && *p >= -1e15 && *p <= 1e15) n.position = static_cast<int64_t>(*p);
  n.bytes = Bytes(j, "bytes");
  n.rate_bps = NonNegative(j, "rate_bps");
  n.eta_s = NonNegative(j, "eta_s");
  n.updated = NonNegative(j, "updated");
  return n;
}

}  // namespace

std::string NodeView::Message() const {
  if (failed()) return "FAILED: " + (!error.empty() ? error : !last_message.empty() ? last_message : "unknown error");
  return !last_message.empty() ? last_message : detail;
}

std::optional<uint64_t> SnapshotView::OverallBytes() const {
  std::optional<uint64_t> least;
  for (const auto& n : nodes)
    if (!n.failed() && n.bytes && (!least || *n.bytes < *least)) least = n.bytes;
  return least ? least : sent_bytes;
}

int SnapshotView::FailedCount() const {
  return static_cast<int>(std::count_if(nodes.begin(), nodes.end(), [](const NodeView& n) { return n.failed(); }));
}

SnapshotView ReadSnapshot(const json& snapshot, const ReadOptions& o) {
  SnapshotView s;
  s.session = Text(snapshot, "session", o, o.unknown_text);
  s.session_id = Text(snapshot, "session_id", o, o.unknown_text);
  s.source = Text(snapshot, "source", o, o.unknown_text);
  s.phase = Text(snapshot, "phase", o, o.unknown_text);
  s.elapsed = NonNegative(snapshot, "elapsed");
  s.total_bytes = Bytes(snapshot, "total_bytes");
  if (o.zero_total_unknown && s.total_bytes == 0u) s.total_bytes.reset();
  s.sent_bytes = Bytes(snapshot, "sent_bytes");
  if (const json* chain = Field(snapshot, "chain"); chain != nullptr && chain->is_array())
    for (const auto& c : *chain) s.chain.push_back(TextOr(&c, o, o.unknown_text));
  if (const json* e = Field(snapshot, "exec_enabled"); e != nullptr && e->is_boolean()) s.exec_enabled = e->get<bool>();
  if (const json* nodes = Field(snapshot, "nodes"); nodes != nullptr && nodes->is_array())
    for (const auto& n : *nodes)
      if (n.is_object()) s.nodes.push_back(ReadNode(n, o));
  if (!o.snapshot_order)
    std::stable_sort(s.nodes.begin(), s.nodes.end(), [](const NodeView& a, const NodeView& b) {
      auto key = [](const NodeView& n) { return n.position.value_or(std::numeric_limits<int64_t>::max()); };
      return key(a) < key(b);
    });
  if (const json* t = Field(snapshot, "throughput"); t != nullptr && t->is_array() && !t->empty())
    s.throughput_bps = NonNegative(t->back(), "bytes_per_s");
  return s;
}

std::optional<int> Percent(std::optional<uint64_t> bytes, std::optional<uint64_t> total) {
  if (!bytes || !total || *total == 0) return std::nullopt;
  if (*bytes >= *total) return 100;
  int p = static_cast<int>(std::floor(100.0 * static_cast<double>(*bytes) / static_cast<double>(*total)));
  return std::clamp(p, 0, 99);
}

std::string FormatPercent(std::optional<int> percent) { return percent ? fmt::format("{}%", *percent) : kUnknown; }

std::string FormatRate(std::optional<double> bytes_per_s) {
  // Above a PiB/s the value is not a rate but garbage in the snapshot.
  if (!bytes_per_s || !std::isfinite(*bytes_per_s) || *bytes_per_s < 0 || *bytes_per_s > 0x1p50) return kUnknown;
  return fmt::format("{:.1f} MiB/s", *bytes_per_s / 1048576.0);
}

std::string FormatEta(std::optional<double> seconds) {
  if (!seconds || !std::isfinite(*seconds) || *seconds < 0 || *seconds > 1e9) return kUnknown;
  auto s = static_cast<uint64_t>(std::llround(*seconds));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string FormatElapsed(std::optional<double> seconds) {
  if (!seconds || !std::isfinite(*seconds) || *seconds < 0 || *seconds > 1e9) return kUnknown;
  if (*seconds < 60) return fmt::format("{:.1f}s", *seconds);
  auto s = static_cast<uint64_t>(*seconds);
  if (s >= 3600) return fmt::format("{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}m{:02}s", s / 60, s % 60);
}

std::string FormatBytesOr(std::optional<uint64_t> bytes) { return bytes ? FormatBytes(*bytes) : kUnknown; }

}  // namespace ka::control
