// SenderImpl: the heartbeat to every member (with how far back it must keep
// data, for a resume), the sender's own replay window, and frozen nodes.
// See sender_impl.h.
#include "chain/keep_window.h"
#include "chain/sender_impl.h"
#include "util/log.h"
#include "util/net.h"

namespace ka::chain {

// Every heartbeat also tells each member how far back it must keep data
// (chain/keep_window.h); the sender keeps as much in its own ring.
void SenderImpl::SendHeartbeats() {
  std::vector<std::pair<SecureChannel*, Json>> beats;
  {
    std::lock_guard l(mu_);
    std::vector<std::vector<Node*>> chains(std::max<size_t>(1, relays_.size()));
    for (auto& n : nodes_)
      if (n->in_chain) chains[static_cast<size_t>(n->chain)].push_back(n.get());
    uint64_t sender_keep = kKeepNothing;  // the least any chain needs from the sender's ring
    for (size_t c = 0; c < chains.size(); ++c) {
      std::vector<KeepMember> members;
      for (Node* n : chains[c]) members.push_back({n->received, n->branch_fed});
      std::vector<uint64_t> keep = KeepPositions(members);
      sender_keep = std::min(sender_keep, keep[0]);
      for (size_t i = 0; i < chains[c].size(); ++i) {
        SenderProgress beat;
        beat.sent = c < relays_.size() ? relays_[c]->child_position() : 0;
        if (started_ && keep[i + 1] != kKeepNothing) {
          beat.has_keep = true;
          beat.keep = keep[i + 1];
        }
        beats.emplace_back(chains[c][i]->channel.get(), beat.ToJson());
      }
    }
    if (started_ && keep_cursor_ >= 0) {
      // Only forward: older bytes may be overwritten already (the ring also clamps).
      if (sender_keep == kKeepNothing) {
        ring_.MoveCursor(keep_cursor_, UINT64_MAX / 2);
        keep_ = 0;
      } else if (sender_keep > keep_) {
        keep_ = sender_keep;
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
}

}  // namespace ka::chain
