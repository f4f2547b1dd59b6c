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
  if (started_ && now - last_judge_ >= std::chrono::seconds(1)) JudgeChains(now);
}

// Called with mu_ held, every second once the stream runs: our own ring's counters for each
// chain's head, then the verdicts. A node is named in the log once, the first time it holds its
// chain back; the report says for how long in all.
void SenderImpl::JudgeChains(Clock::time_point now) {
  double dt = last_judge_ == Clock::time_point{} ? 0 : std::chrono::duration<double>(now - last_judge_).count();
  last_judge_ = now;
  double t = std::chrono::duration<double>(now - t_start_).count();
  for (size_t c = 0; c < relays_.size(); ++c)
    judge_.Observe(BottleneckJudge::SenderOf(c), t, {0, ring_.HeldSeconds(kHeldByChain0 + static_cast<int>(c)), 0});
  std::vector<std::vector<uint64_t>> chains(relays_.size());
  std::map<uint64_t, Node*> by_id;
  for (auto& n : nodes_) {
    if (!Live(*n) || n->branch_fed) continue;  // a done node still relays: it stays its child's parent
    if (n->chain >= 0 && static_cast<size_t>(n->chain) < chains.size())
      chains[static_cast<size_t>(n->chain)].push_back(n->id);
    by_id[n->id] = n.get();
  }
  for (size_t c = 0; c < chains.size(); ++c) {
    for (const HoldVerdict& v : judge_.Judge(c, chains[c], t)) {
      Node& n = *by_id[v.node];
      n.held_back_s += std::min(dt, 2.0);
      n.held_back_by = HoldCauseName(v.cause);
      if (n.held_back_logged) continue;
      n.held_back_logged = true;
      if (v.cause == HoldCause::kOutput)
        LogWarn(
            "node {} holds its chain back: its output takes the data slower than the chain brings it ({:.0f} % "
            "of the last {:.1f} s its ring was full, waiting on its own write). Every node of its chain goes at "
            "its pace: check its disk (or where its --output goes)",
            n.name, v.share * 100, v.window);
      else
        LogWarn(
            "node {} holds its chain back: it takes the data slower than {} sends it ({:.0f} % of the last "
            "{:.1f} s its upstream waited on it, while its own ring had room). Every node of its chain goes at "
            "its pace: check its link (speed, duplex, errors, a congested port) or its CPU",
            n.name, UpstreamOf(n) ? UpstreamOf(n)->name : std::string("the sender"), v.share * 100, v.window);
    }
  }
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
