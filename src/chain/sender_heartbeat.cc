// SenderImpl: the heartbeat on every control connection (at a pace bounded over
// all nodes), the sender's own replay window (from the chain heads' link beats),
// and frozen nodes (silent on their control connection, or on their link to us).
// See sender_impl.h.
#include "chain/keep_window.h"
#include "chain/sender_impl.h"
#include "util/log.h"
#include "util/net.h"

namespace ka::chain {

double ControlBeatSeconds(int nodes, double rate) {
  return std::max(kDefaultControlBeat, static_cast<double>(std::max(nodes, 1)) / std::max(rate, 1.0));
}

// What our own ring must keep: for each chain, what its second member may need if its head
// fails (keep_window.h), from the head's link beats. A chain whose head has not beaten yet
// keeps what it kept; a chain with no member needs nothing.
uint64_t SenderImpl::SenderKeep() const {
  uint64_t keep = kKeepNothing;
  for (size_t c = 0; c < chain_heads_.size(); ++c) {
    uint64_t head = chain_heads_[c];
    if (head == 0) continue;
    auto w = link_watchers_.find(head);
    std::optional<LinkBeat> b;
    if (w != link_watchers_.end() && !w->second->dropped()) b = w->second->beat();
    keep = std::min(keep, b ? KeepForChild(b->received, b->has_next, b->next) : keep_);
  }
  return keep;
}

// The heartbeat on each control connection, every control_beat_ s (spread over the loop's
// turns by when each node joined), and our ring's replay window.
void SenderImpl::SendHeartbeats() {
  std::vector<std::pair<SecureChannel*, Json>> beats;
  {
    std::lock_guard l(mu_);
    auto now = Clock::now();
    auto every = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(control_beat_));
    for (auto& n : nodes_) {
      if (!n->in_chain || now - n->beat_sent < every) continue;
      n->beat_sent = now;
      SenderProgress beat;
      beat.sent =
          n->chain < static_cast<int>(relays_.size()) ? relays_[static_cast<size_t>(n->chain)]->child_position() : 0;
      beats.emplace_back(n->channel.get(), beat.ToJson());
    }
    if (started_ && keep_cursor_ >= 0) {
      uint64_t sender_keep = SenderKeep();
      // Only forward: older bytes may be overwritten already (the ring also clamps).
      if (sender_keep == kKeepNothing) {
        ring_.MoveCursor(keep_cursor_, UINT64_MAX / 2);
        keep_released_ = true;
      } else if (keep_released_ || sender_keep > keep_) {  // back after a release: the ring clamps
        keep_ = sender_keep;
        keep_released_ = false;
        ring_.MoveCursor(keep_cursor_, keep_);
      }
    }
  }
  for (auto& [ch, beat] : beats) (void)ch->Send(FrameType::kProgress, beat, 1);
}

void SenderImpl::HeartbeatLoop() {
  while (!stop_) {
    SendHeartbeats();
    // What has gone into the chain (payload bytes, frame headers taken out), not what was read ahead into the ring.
    uint64_t pos;
    {
      std::lock_guard l(mu_);
      pos = SentPosition();
    }
    observer_.BytesSent(static_cast<uint64_t>(static_cast<double>(pos) * opt_.chunk / (opt_.chunk + kHeaderSize)));
    std::unique_lock l(stop_mu_);
    stop_cv_.wait_for(l, std::chrono::duration<double>(kSenderHeartbeatSeconds), [&] { return stop_.load(); });
  }
}

// Called with mu_ held, every 0.1 s. Two things that are not a node's silence do not count as
// one: time this check itself did not run (the sender had no CPU: a loaded machine), and messages
// that wait unread in the node's socket (the node spoke; our reader thread had no CPU yet).
void SenderImpl::CheckTimeouts() {
  auto now = Clock::now();
  double late = 0;
  if (last_check_ != Clock::time_point{})
    late = std::chrono::duration<double>(now - last_check_).count() - kCheckLateAfterSeconds;
  last_check_ = now;
  for (auto& n : nodes_) {
    if (!Live(*n)) continue;
    n->liveness->Excuse(late, now);
    if (!n->liveness->Frozen(now)) continue;
    if (n->channel && UnreadBytes(n->channel->fd()) > 0) {
      n->liveness->Heard(now);
      continue;
    }
    DropNode(*n, fmt::format("no heartbeat for {:.1f} s (frozen or unreachable; its longest gap so far {:.2f} s)",
                             n->liveness->Silence(now), n->liveness->max_gap()));
  }
  WatchLinks(late, now);
}

// The chain heads and direct branches we feed: their link beats, as every node watches its
// child's (the others come to us as SUSPECT, sender_members.cc).
void SenderImpl::WatchLinks(double late, Clock::time_point now) {
  for (auto it = link_watchers_.begin(); it != link_watchers_.end();) {
    LinkWatcher& w = *it->second;
    Node* node = nullptr;
    for (auto& n : nodes_)
      if (n->id == it->first) node = n.get();
    if (w.dropped() || !node || !Live(*node)) {
      it = link_watchers_.erase(it);
      continue;
    }
    ++it;
    w.Excuse(late, now);
    if (w.Frozen(now) && w.MarkReported())
      DropNode(*node, fmt::format("no heartbeat on its data link for {:.1f} s (frozen or cut off; seen by the sender, "
                                  "its upstream neighbour)",
                                  w.Silence(now)));
  }
}

}  // namespace ka::chain
