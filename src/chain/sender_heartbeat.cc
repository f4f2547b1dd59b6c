// SenderImpl: the heartbeat to every member (with how far back it must keep
// data, for a resume), the sender's own replay window, and frozen nodes.
// See sender_impl.h.
#include "chain/sender_impl.h"
#include "util/log.h"

namespace ka::chain {

// Every heartbeat also tells each member how far back it must keep data:
// to the position of the next two nodes downstream, so that if its child
// fails, the grandchild can resume from this member's window.
void SenderImpl::SendHeartbeats() {
  std::vector<std::pair<SecureChannel*, Json>> beats;
  {
    std::lock_guard l(mu_);
    std::vector<Node*> chain;
    for (auto& n : nodes_)
      if (n->in_chain) chain.push_back(n.get());
    auto keep_after = [&](size_t i) {  // i: index in `chain` of the first node downstream
      uint64_t k = UINT64_MAX;
      for (size_t j = i; j < chain.size() && j < i + 2; ++j)
        if (!chain[j]->branch_fed) k = std::min(k, chain[j]->received);
      return k;
    };
    if (started_ && keep_cursor_ >= 0) {
      // Only forward: older bytes may be overwritten already (the ring also clamps).
      uint64_t k = keep_after(0);
      if (k == UINT64_MAX) {
        ring_.MoveCursor(keep_cursor_, UINT64_MAX / 2);
        keep_ = 0;
      } else if (k > keep_) {
        keep_ = k;
        ring_.MoveCursor(keep_cursor_, k);
      }
    }
    for (size_t i = 0; i < chain.size(); ++i) {
      SenderProgress beat;
      beat.sent = relay_.child_position();
      uint64_t k = keep_after(i + 1);
      if (started_ && k != UINT64_MAX) {
        beat.has_keep = true;
        beat.keep = k;
      }
      beats.emplace_back(chain[i]->channel.get(), beat.ToJson());
    }
  }
  for (auto& [ch, beat] : beats) (void)ch->Send(FrameType::kProgress, beat, 1);
}

void SenderImpl::HeartbeatLoop() {
  while (!stop_) {
    SendHeartbeats();
    // What has gone into the chain (payload bytes, frame headers taken out), not what was read ahead into the ring.
    uint64_t pos = relay_.child_position();
    observer_.BytesSent(static_cast<uint64_t>(static_cast<double>(pos) * opt_.chunk / (opt_.chunk + kHeaderSize)));
    std::unique_lock l(stop_mu_);
    stop_cv_.wait_for(l, std::chrono::duration<double>(kSenderHeartbeatSeconds), [&] { return stop_.load(); });
  }
}

// Called with mu_ held.
void SenderImpl::CheckTimeouts() {
  auto now = Clock::now();
  for (auto& n : nodes_) {
    if (!Live(*n)) continue;
    if (n->liveness->Frozen(now))
      DropNode(*n, fmt::format("no heartbeat for {:.1f} s (frozen or unreachable; its longest gap so far {:.2f} s)",
                               n->liveness->Silence(now), n->liveness->max_gap()));
  }
}

}  // namespace ka::chain
