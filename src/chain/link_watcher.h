// LinkWatcher: a parent's view of its child on their data link (docs/protocol.md §6, link
// beats). The child seals a LinkBeat with the link's own keys every 0.25 s; the relay hands the
// bytes here. The watcher opens them, keeps the latest beat (what the parent must keep for a
// resume, and the sub-chain's state aggregated from the end of the chain) and times the child's
// silence: the parent, not the sender, sees a child freeze first, whatever the chain's length.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "chain/channel.h"
#include "chain/freeze_detector.h"
#include "chain/messages.h"
#include "chain/relay.h"

namespace ka::chain {

// A child beats on its link six times within the least silence that counts as a freeze
// (--freeze-detect, 1.5 s by default: every 0.25 s), at most 20 times a second.
inline double LinkBeatSeconds(double detect) { return std::clamp(detect / 6, 0.05, 0.25); }

class LinkWatcher : public Relay::ChildListener {
 public:
  using Clock = std::chrono::steady_clock;
  // `channel`: the link's channel, its connection released to the relay. The child counts as
  // frozen after FreezeDetector(min_timeout, max_timeout) of silence.
  LinkWatcher(uint64_t node_id, std::string name, std::unique_ptr<SecureChannel> channel, double min_timeout,
              double max_timeout, Clock::time_point start = Clock::now());

  // Relay::ChildListener (the relay's thread). Only link beats may come: anything else, or a
  // frame that does not open, fails the link.
  Status OnBytes(const uint8_t* data, size_t size) override { return Feed(data, size, Clock::now()); }
  void OnDropped() override;
  Status Feed(const uint8_t* data, size_t size, Clock::time_point now);

  uint64_t node_id() const { return node_id_; }
  const std::string& name() const { return name_; }
  std::optional<LinkBeat> beat() const;  // the latest, if any came
  bool dropped() const;                  // the relay no longer feeds this child
  // Time the observer itself could not run (see FreezeDetector::Excuse).
  void Excuse(double seconds, Clock::time_point now);
  bool Frozen(Clock::time_point now) const;
  double Silence(Clock::time_point now) const;
  // Once per watcher: true the first time (the caller reports the child then).
  bool MarkReported();

 private:
  const uint64_t node_id_;
  const std::string name_;
  std::unique_ptr<SecureChannel> channel_;  // used by the relay's thread only
  std::string buffer_;                      // bytes of an incomplete frame (relay's thread)
  mutable std::mutex mu_;
  FreezeDetector liveness_;
  std::optional<LinkBeat> beat_;
  bool dropped_ = false;
  bool reported_ = false;
};

}  // namespace ka::chain
