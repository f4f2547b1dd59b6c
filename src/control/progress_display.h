// A sending session's live progress on the server's stdout while it streams:
// a ProgressPrinter (control/progress_view.h) fed with the session's snapshot
// every interval from its own thread. On a terminal the console log shows
// only warnings and errors meanwhile (everything still goes to server.log).
#pragma once

#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "control/progress_view.h"
#include "control/session_view.h"

namespace ka::control {

class ProgressDisplay {
 public:
  // `view` outlives the display.
  ProgressDisplay(const SessionView& view, FILE* out, double interval_s);
  ~ProgressDisplay();  // Stop()

  // The stream starts: draws until Stop().
  void Start();
  // The stream ended: draws the final state once and restores the console log level.
  void Stop();

 private:
  void Loop();

  const SessionView& view_;
  bool tty_;
  double interval_s_;
  ProgressPrinter printer_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool running_ = false, stopping_ = false;
  std::thread thread_;
  int console_level_ = -1;  // spdlog level to restore, -1: untouched
};

}  // namespace ka::control
