// SenderImpl: each member's control channel once it joined: its messages
// (progress, state, logs, READY, DONE), its verdict, its loss, and the
// remote commands relayed to it. See sender_impl.h.
#include "chain/sender_impl.h"
#include "util/log.h"
#include "util/units.h"

namespace ka::chain {

void SenderImpl::MarkFailed(Node& n, const std::string& why) {
  if (n.state == NodeState::kFailed) return;
  n.state = NodeState::kFailed;
  n.error = why;
  n.seconds = std::chrono::duration<double>(Clock::now() - t_start_).count();
  observer_.NodeFailed(n.name, why);
  if (started_) LogError("node {} FAILED at {}: {}", n.name, FormatBytes(n.payload), why);
}

void SenderImpl::RemoveFromChain(Node& n) {
  if (!n.in_chain) return;
  n.in_chain = false;
  judge_.Forget(n.id);
  if (started_) relink_needed_ = true;
}

void SenderImpl::DropNode(Node& n, const std::string& why) {
  MarkFailed(n, why);
  RemoveFromChain(n);
  // Tell it (it reads this when it wakes up), then cut it off.
  std::thread([ch = n.channel.get(), why] {
    (void)ch->Send(FrameType::kAbort, chain::Abort{"dropped from the chain: " + why}.ToJson(), 0.5);
    ch->Shutdown();
  }).detach();
}

// Called with mu_ held. The live member before `n` in its chain.
Node* SenderImpl::UpstreamOf(const Node& n) {
  Node* before = nullptr;
  for (auto& m : nodes_) {
    if (m.get() == &n) return before;
    if (Live(*m) && m->chain == n.chain) before = m.get();
  }
  return nullptr;
}

// Called with mu_ held. SUSPECT: `reporter` heard no link beat from its child for a while. Only
// the child's upstream neighbour, as we see the chain now, is believed: a report that crossed a
// re-link is stale and ignored, as is one about a node already out.
Status SenderImpl::HandleSuspect(Node& reporter, const Message& m) {
  auto s = Suspect::Decode(m.body);
  if (!s.ok()) return s.status();
  Node* suspect = nullptr;
  for (auto& n : nodes_)
    if (n->id == s->node) suspect = n.get();
  if (!suspect || !Live(*suspect) || suspect->branch_fed) return Status::Ok();
  if (UpstreamOf(*suspect) != &reporter) {
    LogInfo("ignoring {}'s report on {}: it is not that node's upstream neighbour now", reporter.name, suspect->name);
    return Status::Ok();
  }
  DropNode(
      *suspect,
      fmt::format("no heartbeat on its data link for {:.1f} s (frozen or cut off; seen by {}, its upstream neighbour)",
                  s->silence, reporter.name));
  return Status::Ok();
}

void SenderImpl::ReadLoop(std::shared_ptr<Node> n) {
  while (!stop_) {
    auto m = n->channel->Read(DeadlineIn(3600));
    std::lock_guard l(mu_);
    if (!m.ok()) {
      if (!stop_ && !ending_) {
        if (!started_) LogWarn("node {} left before the start: {}", n->name, m.status().ToString());
        // Even a node that had finished is lost: it never got BYE, so it did not commit its output.
        if (n->state == NodeState::kDone) n->state = NodeState::kStreaming;
        Status::Code code = m.status().code();
        if (code == Status::Code::kAuth || code == Status::Code::kProtocol)  // forged, replayed or garbled
          DropNode(*n, "its control channel failed: " + m.status().ToString());
        MarkFailed(*n, "lost contact with the node: " + m.status().ToString());
        RemoveFromChain(*n);
      }
      --readers_active_;
      cv_.notify_all();
      return;
    }
    if (m->type == FrameType::kProgress) n->liveness->Heartbeat(Clock::now());
    else n->liveness->Heard(Clock::now());
    if (Status s = HandleNodeMessage(*n, *m); !s.ok()) {
      // A node that sends what the protocol does not allow fails alone; the session goes on.
      if (n->state == NodeState::kDone) n->state = NodeState::kStreaming;
      DropNode(*n, s.ToString());
    }
    cv_.notify_all();
  }
}

// Called with mu_ held. A malformed message is the sending node's failure.
Status SenderImpl::HandleNodeMessage(Node& n, const Message& m) {
  switch (m.type) {
    case FrameType::kProgress: {
      auto p = NodeProgress::Decode(m.body);
      if (!p.ok()) return p.status();
      n.received = p->received;
      n.payload = p->payload;
      judge_.Observe(n.id, std::chrono::duration<double>(Clock::now() - t_start_).count(),
                     {static_cast<double>(p->held_output_ms) / 1000, static_cast<double>(p->held_child_ms) / 1000,
                      static_cast<double>(p->held_keep_ms) / 1000});
      observer_.NodeBytes(n.name, n.payload);
      return Status::Ok();
    }
    case FrameType::kSuspect:
      return HandleSuspect(n, m);
    case FrameType::kStatus: {
      auto s = StatusMsg::Decode(m.body);
      if (!s.ok()) return s.status();
      observer_.NodeState(n.name, s->state, s->detail);
      return Status::Ok();
    }
    case FrameType::kLog: {
      auto lg = LogMsg::Decode(m.body);
      if (!lg.ok()) return lg.status();
      observer_.NodeLog(n.name, lg->lines);
      return Status::Ok();
    }
    case FrameType::kExecResult: {
      auto r = ExecResult::Decode(m.body);
      if (!r.ok()) return r.status();
      if (r->id == 0 || r->id >= next_exec_id_) return Status::Protocol("EXEC_RESULT for a command never sent");
      exec_results_[r->id] = r.value();
      return Status::Ok();
    }
    case FrameType::kReady: {
      auto r = Ready::Decode(m.body);
      if (!r.ok()) return r.status();
      if (n.state != NodeState::kPreparing) {
        LogWarn("unexpected READY from node {}", n.name);
      } else if (r->ok) {
        n.state = NodeState::kReady;
        LogInfo("node {} is ready ({})", n.name, r->detail.empty() ? "prepared" : r->detail);
      } else {
        MarkFailed(n, "could not prepare: " + (r->error.empty() ? std::string("no reason given") : r->error));
        RemoveFromChain(n);
      }
      return Status::Ok();
    }
    case FrameType::kDone:
      return HandleDone(n, m);
    default:
      return Status::Protocol(std::string("a node may not send ") + TypeName(m.type));
  }
}

// DONE: the node's verdict on the stream, checked against the sender's digest.
Status SenderImpl::HandleDone(Node& n, const Message& m) {
  auto d = Done::Decode(m.body);
  if (!d.ok()) return d.status();
  if (n.state == NodeState::kFailed && d->unlinked) DropNode(n, n.error);
  n.payload = d->payload;
  observer_.NodeBytes(n.name, n.payload);  // the last PROGRESS may be older: the record ends as the report does
  n.digest = d->digest;
  n.phases = d->phases;
  if (n.state == NodeState::kFailed) return Status::Ok();
  if (d->ok) {
    std::string want = producer_->digest_hex();
    if (want.empty() || n.digest != want) {
      MarkFailed(n, "digest mismatch: node has " + n.digest + ", sender has " + want);
    } else {
      n.state = NodeState::kDone;
      observer_.NodeDone(n.name);
      n.seconds = std::chrono::duration<double>(Clock::now() - t_start_).count();
      LogInfo("node {} done: {} verified", n.name, FormatBytes(n.payload));
    }
  } else {
    // Failed locally but still connected: it keeps relaying, so the chain is unchanged,
    // unless it cannot get data itself ("unlinked"): then the chain goes around it.
    MarkFailed(n, d->error.empty() ? "failed without a reason" : d->error);
    if (d->unlinked) DropNode(n, n.error);
  }
  return Status::Ok();
}

Result<ExecResult> SenderImpl::RelayExec(const std::string& node, Exec command, double timeout,
                                         const std::function<void()>& sent) {
  std::unique_lock l(mu_);
  std::shared_ptr<Node> target;
  for (auto& n : nodes_)
    if (n->name == node && n->in_chain) target = n;
  if (!target) return Status::Invalid("no connected node named '" + node + "'");
  command.id = next_exec_id_++;
  SecureChannel* ch = target->channel.get();
  l.unlock();
  if (sent) sent();
  Status s = ch->Send(FrameType::kExec, command.ToJson(), 5);
  l.lock();
  if (!s.ok()) return Status::Closed("could not reach " + node + ": " + s.ToString());
  uint64_t id = command.id;
  bool got = cv_.wait_for(l, std::chrono::duration<double>(timeout),
                          [&] { return exec_results_.count(id) > 0 || stop_; });
  if (!got || !exec_results_.count(id))
    return Status::Timeout(fmt::format("{} did not answer within {:.0f} s", node, timeout));
  ExecResult r = exec_results_[id];
  exec_results_.erase(id);
  return r;
}

}  // namespace ka::chain
