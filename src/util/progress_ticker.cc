#include "util/progress_ticker.h"

namespace ka {

ProgressTicker::ProgressTicker(std::chrono::milliseconds every, std::function<void(double)> tick) {
  const auto start = std::chrono::steady_clock::now();
  thread_ = std::thread([this, every, start, tick = std::move(tick)] {
    std::unique_lock lock(mu_);
    auto next = start + every;
    while (!cv_.wait_until(lock, next, [this] { return stop_; })) {
      ++ticks_;
      double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      lock.unlock();
      tick(elapsed);
      lock.lock();
      next += every;
    }
  });
}

ProgressTicker::~ProgressTicker() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int ProgressTicker::ticks() const {
  std::lock_guard lock(mu_);
  return ticks_;
}

}  // namespace ka
