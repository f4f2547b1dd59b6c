// FreezeDetector: when is a silent node frozen? A node sends a heartbeat every
// 0.25 s; a frozen one (SIGSTOP, a hung kernel, a cut cable that keeps the TCP
// connection open) sends nothing. A busy node's heartbeats come late, but they
// come. The detector learns each node's own rhythm: once it has seen three
// heartbeats (half a second), a node is frozen after four times the longest gap of its last
// 40 (10 s), never less than `min_timeout`, never more than `max_timeout` (the
// operator's --node-timeout); before that, after `max_timeout`. So a quiet node
// is dropped in about 1.5 s and a loaded one is given the time its load needs.
#pragma once

#include <chrono>
#include <deque>

namespace ka::chain {

class FreezeDetector {
 public:
  using Clock = std::chrono::steady_clock;
  FreezeDetector(double min_timeout, double max_timeout, Clock::time_point start = Clock::now());

  // Any message from the node (it is alive).
  void Heard(Clock::time_point now);
  // `seconds` during which the observer could not listen (it had no CPU): they do not count as
  // the node's silence. Never moves the last word past `now`.
  void Excuse(double seconds, Clock::time_point now);
  // A heartbeat (PROGRESS): also a sample of the node's rhythm.
  void Heartbeat(Clock::time_point now);
  // Seconds of silence after which the node counts as frozen, now.
  double Timeout() const;
  double Silence(Clock::time_point now) const;
  bool Frozen(Clock::time_point now) const { return Silence(now) > Timeout(); }
  // The longest gap between heartbeats seen so far (reported).
  double max_gap() const { return max_gap_; }

 private:
  double min_, max_;
  Clock::time_point last_heard_, last_beat_;
  bool beat_seen_ = false;
  std::deque<double> gaps_;
  double max_gap_ = 0;
};

}  // namespace ka::chain
