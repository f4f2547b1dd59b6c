// Live progress of a session on the server's terminal, rendered from a session snapshot
// (see control/snapshot.h for the schema and how missing fields are shown).
#pragma once

#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ka::control {

// The live block: a header line (session, phase, elapsed, overall progress = least bytes of
// the nodes that have not failed over the total, stream rate, node count), then one line per
// node by position: position, name, state, a [####....] bar sized to the space left (the bytes
// centred in the bar when the total is unknown; no bar when width is too small), percent,
// rate, ETA and the last message, or "FAILED: reason". Every line is at most `width` columns.
std::vector<std::string> RenderProgress(const nlohmann::json& snapshot, int width);

// The same for logs: plain lines, each prefixed with the session's elapsed time
// ("[  12.5s] node1 extracting 45% 110.2 MiB/s eta 0:03 writing /usr"); header first.
std::vector<std::string> RenderProgressLog(const nlohmann::json& snapshot, int width);

// True when `out` is a terminal.
bool IsTty(FILE* out);

// Prints progress as snapshots arrive, at most once every interval_s (the first Update and
// Finish always print). On a TTY it redraws the live block in place (cursor up over the
// previous block, each line cleared first; lines left over when the block shrinks are
// cleared), width from the terminal (fallback 100). Otherwise it writes log lines (width 120)
// for the nodes whose line changed since they were last printed, after the header, and never
// an escape sequence. Finish prints the final block once (on a TTY in place of the live one);
// later calls do nothing. Not thread-safe: call from one thread.
class ProgressPrinter {
 public:
  // `now` returns seconds on a monotonic clock (default: steady_clock); tests inject one.
  ProgressPrinter(FILE* out, bool tty, double interval_s, std::function<double()> now = {});

  void Update(const nlohmann::json& snapshot);
  void Finish(const nlohmann::json& snapshot);

 private:
  void Draw(const nlohmann::json& snapshot, bool final);
  void DrawTty(const nlohmann::json& snapshot);
  bool DrawLog(const nlohmann::json& snapshot, bool all);
  int TtyWidth() const;

  FILE* out_;
  bool tty_;
  double interval_s_;
  std::function<double()> now_;
  bool printed_ = false;
  bool finished_ = false;
  double last_print_ = 0;
  size_t tty_lines_ = 0;                            // lines of the live block on screen
  std::string last_header_;                         // log mode: last header printed (no marker)
  std::map<std::string, std::string> last_lines_;   // log mode: node key -> last line printed
};

}  // namespace ka::control
