#include "control/progress_view.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "control/snapshot.h"
#include "control/text.h"

namespace ka::control {
namespace {

constexpr size_t kMaxName = 20;
constexpr size_t kStateWidth = 15;  // "individualising"
constexpr size_t kPercentWidth = 4;
constexpr size_t kRateWidth = 11;  // "110.2 MiB/s"
constexpr size_t kEtaWidth = 5;
constexpr size_t kMinBar = 5;
constexpr size_t kMaxBar = 50;
constexpr int kMinWidth = 20;
constexpr int kLogWidth = 120;
constexpr int kTtyFallbackWidth = 100;

std::optional<double> StreamRate(const SnapshotView& s) {
  if (s.throughput_bps) return s.throughput_bps;
  if (s.sent_bytes && s.elapsed && *s.elapsed > 0) return static_cast<double>(*s.sent_bytes) / *s.elapsed;
  return std::nullopt;
}

// "overall 55.0 MiB / 117.7 MiB 45%  110.2 MiB/s  3 nodes, 1 failed" (sep between fields).
std::string Summary(const SnapshotView& s, const char* sep) {
  auto overall = s.OverallBytes();
  std::string total = s.total_bytes ? FormatBytesOr(s.total_bytes) : "?";
  std::string progress = "overall " + FormatBytesOr(overall) + " / " + total;
  if (auto p = Percent(overall, s.total_bytes)) progress += " " + FormatPercent(p);
  std::string nodes = fmt::format("{} node{}", s.nodes.size(), s.nodes.size() == 1 ? "" : "s");
  if (int failed = s.FailedCount(); failed > 0) nodes += fmt::format(", {} failed", failed);
  return progress + sep + FormatRate(StreamRate(s)) + sep + nodes;
}

size_t NameWidth(const SnapshotView& s) {
  size_t w = 1;
  for (const auto& n : s.nodes) w = std::max(w, std::min(kMaxName, Columns(n.name)));
  return w;
}

std::string Bar(const NodeView& n, std::optional<uint64_t> total, size_t inner) {
  if (!total) return "[" + PadCenter(FormatBytesOr(n.bytes), inner) + "]";
  size_t fill = 0;
  if (n.bytes) {
    if (*n.bytes >= *total) fill = inner;
    else fill = std::min(inner - 1, static_cast<size_t>(static_cast<double>(inner) * static_cast<double>(*n.bytes) /
                                                        static_cast<double>(*total)));
  }
  return "[" + std::string(fill, '#') + std::string(inner - fill, '.') + "]";
}

std::string NodeLine(const NodeView& n, std::optional<uint64_t> total, size_t name_width, size_t bar_inner,
                     size_t width) {
  std::string pos = n.position ? std::to_string(*n.position) : kUnknown;
  std::string line = PadLeft(pos, 2) + " " + PadRight(TruncateColumns(n.name, kMaxName), name_width) + " " +
                     PadRight(TruncateColumns(n.state, kStateWidth), kStateWidth) + " ";
  if (bar_inner > 0) line += Bar(n, total, bar_inner) + " ";
  std::string percent = total || bar_inner > 0 ? FormatPercent(Percent(n.bytes, total)) : FormatBytesOr(n.bytes);
  line += PadLeft(percent, kPercentWidth) + " " + PadLeft(n.failed() ? kUnknown : FormatRate(n.rate_bps), kRateWidth) +
          " eta " + PadLeft(n.failed() ? kUnknown : FormatEta(n.eta_s), kEtaWidth);
  std::string message = n.Message();
  if (!message.empty()) line += "  " + message;
  return TruncateColumns(TrimRight(line), width);
}

struct LogLine {
  std::string key;  // which node the line is about; empty for the header
  std::string text;  // without the elapsed marker
};

std::string NodeKey(const NodeView& n, size_t index) {
  return (n.position ? std::to_string(*n.position) : "#" + std::to_string(index)) + "|" + n.name;
}

std::string ElapsedMarker(const SnapshotView& s) {
  if (!s.elapsed || *s.elapsed >= 1e7) return "[" + PadLeft(kUnknown, 7) + "]";
  return fmt::format("[{:>6.1f}s]", *s.elapsed);
}

std::vector<LogLine> LogLines(const SnapshotView& s) {
  std::vector<LogLine> lines;
  lines.push_back({"", fmt::format("session {} {} {}", s.session, s.phase, Summary(s, " "))});
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    const auto& n = s.nodes[i];
    std::string text = n.name + " " + n.state + " ";
    text += s.total_bytes ? FormatPercent(Percent(n.bytes, s.total_bytes)) : FormatBytesOr(n.bytes);
    if (!n.failed()) text += " " + FormatRate(n.rate_bps) + " eta " + FormatEta(n.eta_s);
    if (std::string message = n.Message(); !message.empty()) text += " " + message;
    lines.push_back({NodeKey(n, i), TrimRight(text)});
  }
  return lines;
}

}  // namespace

std::vector<std::string> RenderProgress(const nlohmann::json& snapshot, int width) {
  const auto w = static_cast<size_t>(std::max(width, kMinWidth));
  SnapshotView s = ReadSnapshot(snapshot);
  std::vector<std::string> lines;
  lines.push_back(TruncateColumns(
      TrimRight(fmt::format("session {}  {}  {}  {}", s.session, s.phase, FormatElapsed(s.elapsed), Summary(s, "  "))),
      w));
  size_t name_width = NameWidth(s);
  // Columns around the bar at their nominal widths, so that every node's bar has the same size:
  // "pp name state [bar] ppp% rrrrr MiB/s eta eeeee  message"; the bar takes half of what is left.
  size_t fixed = 2 + 1 + name_width + 1 + kStateWidth + 1 + 3 + kPercentWidth + 1 + kRateWidth + 5 + kEtaWidth + 2;
  size_t bar_inner = w > fixed ? std::min(kMaxBar, (w - fixed) / 2) : 0;
  if (bar_inner < kMinBar) bar_inner = 0;
  for (const auto& n : s.nodes) lines.push_back(NodeLine(n, s.total_bytes, name_width, bar_inner, w));
  return lines;
}

std::vector<std::string> RenderProgressLog(const nlohmann::json& snapshot, int width) {
  const auto w = static_cast<size_t>(std::max(width, kMinWidth));
  SnapshotView s = ReadSnapshot(snapshot);
  std::string marker = ElapsedMarker(s);
  std::vector<std::string> out;
  for (auto& l : LogLines(s)) out.push_back(TruncateColumns(marker + " " + l.text, w));
  return out;
}

bool IsTty(FILE* out) {
  if (out == nullptr) return false;
  int fd = fileno(out);
  return fd >= 0 && isatty(fd) == 1;
}

ProgressPrinter::ProgressPrinter(FILE* out, bool tty, double interval_s, std::function<double()> now)
    : out_(out), tty_(tty), interval_s_(interval_s), now_(std::move(now)) {
  if (!now_)
    now_ = [] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    };
}

void ProgressPrinter::Update(const nlohmann::json& snapshot) {
  if (finished_ || out_ == nullptr) return;
  double now = now_();
  if (printed_ && now - last_print_ < interval_s_) return;
  Draw(snapshot, false);
}

void ProgressPrinter::Finish(const nlohmann::json& snapshot) {
  if (finished_ || out_ == nullptr) return;
  Draw(snapshot, true);
  finished_ = true;
}

void ProgressPrinter::Draw(const nlohmann::json& snapshot, bool final) {
  bool printed = true;
  if (tty_) {
    DrawTty(snapshot);
    if (final) tty_lines_ = 0;  // the final block stays on screen
  } else {
    printed = DrawLog(snapshot, final);
  }
  if (printed) {
    printed_ = true;
    last_print_ = now_();
    std::fflush(out_);
  }
}

int ProgressPrinter::TtyWidth() const {
  winsize ws{};
  int fd = fileno(out_);
  if (fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return kTtyFallbackWidth;
}

void ProgressPrinter::DrawTty(const nlohmann::json& snapshot) {
  // One column short of the terminal: a line that fills the last column can wrap early on
  // some terminals, and the cursor-up count would then miss it.
  std::vector<std::string> lines = RenderProgress(snapshot, TtyWidth() - 1);
  std::string out;
  if (tty_lines_ > 0) out += fmt::format("\x1b[{}A", tty_lines_);
  for (const auto& l : lines) out += "\r\x1b[2K" + l + "\n";
  if (lines.size() < tty_lines_) {
    size_t extra = tty_lines_ - lines.size();
    for (size_t i = 0; i < extra; ++i) out += "\r\x1b[2K\n";
    out += fmt::format("\x1b[{}A", extra);
  }
  tty_lines_ = lines.size();
  std::fwrite(out.data(), 1, out.size(), out_);
}

bool ProgressPrinter::DrawLog(const nlohmann::json& snapshot, bool all) {
  SnapshotView s = ReadSnapshot(snapshot);
  std::string marker = ElapsedMarker(s);
  std::vector<LogLine> lines = LogLines(s);
  std::vector<const LogLine*> changed;
  for (size_t i = 1; i < lines.size(); ++i) {
    auto it = last_lines_.find(lines[i].key);
    if (all || it == last_lines_.end() || it->second != lines[i].text) changed.push_back(&lines[i]);
  }
  if (!all && changed.empty() && lines[0].text == last_header_) return false;
  std::string out;
  auto emit = [&](const LogLine& l) { out += TruncateColumns(marker + " " + l.text, kLogWidth) + "\n"; };
  emit(lines[0]);
  last_header_ = lines[0].text;
  for (const LogLine* l : changed) {
    emit(*l);
    last_lines_[l->key] = l->text;
  }
  std::fwrite(out.data(), 1, out.size(), out_);
  return true;
}

}  // namespace ka::control
