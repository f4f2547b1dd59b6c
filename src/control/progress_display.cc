#include "control/progress_display.h"

#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

namespace ka::control {

ProgressDisplay::ProgressDisplay(const SessionView& view, FILE* out, double interval_s)
    : view_(view), tty_(IsTty(out)), interval_s_(interval_s), printer_(out, tty_, interval_s) {}

ProgressDisplay::~ProgressDisplay() { Stop(); }

void ProgressDisplay::Start() {
  std::lock_guard l(mu_);
  if (running_ || stopping_) return;
  running_ = true;
  if (tty_) {  // the live block is redrawn in place: log lines would tear it
    auto& console = spdlog::default_logger()->sinks().front();
    console_level_ = console->level();
    console->set_level(spdlog::level::warn);
  }
  thread_ = std::thread([this] { Loop(); });
}

void ProgressDisplay::Loop() {
  std::unique_lock l(mu_);
  for (;;) {
    cv_.wait_for(l, std::chrono::duration<double>(interval_s_), [&] { return stopping_; });
    if (stopping_) return;
    l.unlock();
    printer_.Update(view_.Snapshot());
    l.lock();
  }
}

void ProgressDisplay::Stop() {
  {
    std::lock_guard l(mu_);
    if (!running_ || stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  printer_.Finish(view_.Snapshot());
  if (console_level_ >= 0)
    spdlog::default_logger()->sinks().front()->set_level(static_cast<spdlog::level::level_enum>(console_level_));
}

}  // namespace ka::control
