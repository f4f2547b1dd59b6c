#include "chain/freeze_detector.h"

#include <algorithm>

namespace ka::chain {

namespace {
constexpr size_t kWindow = 40;       // heartbeats remembered (10 s at 4 a second)
constexpr size_t kLearned = 2;       // gaps (0.5 s of heartbeats) before the node's own rhythm counts
constexpr double kFactor = 4;        // silence allowed, in longest recent gaps
}  // namespace

FreezeDetector::FreezeDetector(double min_timeout, double max_timeout, Clock::time_point start)
    : min_(std::min(min_timeout, max_timeout)), max_(max_timeout), last_heard_(start), last_beat_(start) {}

void FreezeDetector::Heard(Clock::time_point now) { last_heard_ = std::max(last_heard_, now); }

void FreezeDetector::Excuse(double seconds, Clock::time_point now) {
  if (seconds <= 0) return;
  auto shifted = last_heard_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  last_heard_ = std::min(now, shifted);
}

void FreezeDetector::Heartbeat(Clock::time_point now) {
  Heard(now);
  if (beat_seen_) {
    double gap = std::chrono::duration<double>(now - last_beat_).count();
    gaps_.push_back(gap);
    if (gaps_.size() > kWindow) gaps_.pop_front();
    max_gap_ = std::max(max_gap_, gap);
  }
  beat_seen_ = true;
  last_beat_ = now;
}

double FreezeDetector::Timeout() const {
  if (gaps_.size() < kLearned) return max_;
  double longest = *std::max_element(gaps_.begin(), gaps_.end());
  return std::clamp(kFactor * longest, min_, max_);
}

double FreezeDetector::Silence(Clock::time_point now) const {
  return std::max(0.0, std::chrono::duration<double>(now - last_heard_).count());
}

}  // namespace ka::chain
