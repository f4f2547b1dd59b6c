#include "control/status_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

#include "control/snapshot.h"
#include "control/text.h"

namespace ka::control {
namespace {

constexpr size_t kMaxCell = 32;  // a cell before the last one (a long node name...) is cut to this

// Rows of cells laid out with two spaces between columns; the last column is not padded.
template <size_t N>
std::string Layout(std::vector<std::array<std::string, N>> rows, const std::array<bool, N>& right_aligned) {
  std::array<size_t, N> widths{};
  for (auto& r : rows)
    for (size_t c = 0; c + 1 < N; ++c) {
      r[c] = TruncateColumns(r[c], kMaxCell);
      widths[c] = std::max(widths[c], Columns(r[c]));
    }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t c = 0; c < N; ++c) {
      if (c > 0) line += "  ";
      if (c + 1 == N) line += r[c];
      else line += right_aligned[c] ? PadLeft(r[c], widths[c]) : PadRight(r[c], widths[c]);
    }
    out += TruncateColumns(TrimRight(line), kStatusTableWidth) + "\n";
  }
  return out;
}

std::string Progress(const NodeView& n, std::optional<uint64_t> total) {
  if (!n.bytes) return kUnknown;
  if (auto p = Percent(n.bytes, total)) return FormatPercent(p) + " " + FormatBytesOr(n.bytes);
  return FormatBytesOr(n.bytes);
}

std::string Line(const std::string& text) { return TruncateColumns(text, kStatusTableWidth) + "\n"; }

}  // namespace

std::string RenderStatusTable(const nlohmann::json& snapshot) {
  SnapshotView s = ReadSnapshot(snapshot);
  std::string out = Line(fmt::format("session '{}' ({}): {}", s.session, s.session_id, s.source));
  std::string sent = FormatBytesOr(s.sent_bytes) + " of " + (s.total_bytes ? FormatBytesOr(s.total_bytes) : "?");
  out += Line(fmt::format("phase {}, elapsed {}, sent {}{}", s.phase, FormatElapsed(s.elapsed), sent,
                          s.exec_enabled ? ", exec enabled" : ""));
  std::string chain = "sender";
  for (const auto& c : s.chain) chain += " -> " + c;
  out += Line("chain: " + chain);
  std::vector<std::array<std::string, 8>> rows;
  rows.push_back({"#", "node", "address", "state", "progress", "rate", "eta", "last message"});
  for (const auto& n : s.nodes)
    rows.push_back({n.position ? std::to_string(*n.position) : kUnknown, n.name,
                    n.address, n.state,
                    Progress(n, s.total_bytes), n.failed() ? kUnknown : FormatRate(n.rate_bps),
                    n.failed() ? kUnknown : FormatEta(n.eta_s), n.Message()});
  out += Layout<8>(rows, {true, false, false, false, true, true, true, false});
  return out;
}

std::string RenderFinalSummary(const nlohmann::json& snapshot) {
  SnapshotView s = ReadSnapshot(snapshot);
  auto bytes = s.total_bytes ? s.total_bytes : s.sent_bytes;
  std::string out = Line(fmt::format("session '{}' ({}): {} from {} in {}, phase {}", s.session, s.session_id,
                                     FormatBytesOr(bytes), s.source, FormatElapsed(s.elapsed), s.phase));
  std::vector<std::array<std::string, 7>> rows;
  rows.push_back({"#", "node", "address", "result", "bytes", "MiB/s", "detail"});
  int ok = 0;
  for (const auto& n : s.nodes) {
    std::optional<double> rate = n.rate_bps;
    if (n.bytes && n.updated && *n.updated > 0) rate = static_cast<double>(*n.bytes) / *n.updated;
    std::string detail;
    if (n.done()) detail = n.last_message;
    else if (n.failed()) detail = !n.error.empty() ? n.error : !n.last_message.empty() ? n.last_message : "failed";
    else detail = "not finished (" + n.state + ")";
    rows.push_back({n.position ? std::to_string(*n.position) : kUnknown, n.name,
                    n.address, n.done() ? "OK" : "KO", FormatBytesOr(n.bytes),
                    rate ? fmt::format("{:.1f}", *rate / 1048576.0) : kUnknown, detail});
    ok += n.done();
  }
  out += Layout<7>(rows, {true, false, false, false, true, true, false});
  out += fmt::format("OK {} / KO {} of {} nodes\n", ok, static_cast<int>(s.nodes.size()) - ok, s.nodes.size());
  return out;
}

}  // namespace ka::control
