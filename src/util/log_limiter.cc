#include "util/log_limiter.h"

namespace ka {

bool LogLimiter::Allow(const std::string& kind, uint64_t* suppressed) {
  return AllowAt(kind, std::chrono::steady_clock::now(), suppressed);
}

bool LogLimiter::AllowAt(const std::string& kind, std::chrono::steady_clock::time_point now, uint64_t* suppressed) {
  std::lock_guard l(mu_);
  if (kinds_.size() > 1000 && !kinds_.count(kind)) kinds_.clear();  // bounded, whatever peers send
  Kind& k = kinds_[kind];
  if (std::chrono::duration<double>(now - k.window_start).count() >= window_) {
    k.window_start = now;
    k.passed = 0;
  }
  if (k.passed >= burst_) {
    ++k.dropped;
    return false;
  }
  ++k.passed;
  *suppressed = k.dropped;
  k.dropped = 0;
  return true;
}

}  // namespace ka
