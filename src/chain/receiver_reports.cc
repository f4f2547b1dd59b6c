// ReceiverImpl: what goes back to the sender on the control channel
// (progress, state and log lines, DONE, READY, results of remote commands)
// and the two requests that run beside the stream: PREPARE and EXEC. See
// receiver_impl.h.
#include "chain/keep_window.h"
#include "chain/receiver_impl.h"
#include "chain/remote_exec.h"
#include "crypto/sha256.h"
#include "util/log.h"
#include "util/units.h"

namespace ka::chain {

void ReceiverImpl::SendProgress() {
  NodeProgress p{ring_->head(), consumer_->payload_bytes(), consumer_->position(), !relay_->upstream_ended()};
  auto ms = [&](int tag) { return static_cast<uint64_t>(std::min(ring_->HeldSeconds(tag) * 1000, 1e12)); };
  p.held_output_ms = ms(kHeldByOutput);
  p.held_child_ms =
      static_cast<uint64_t>(std::min((ring_->HeldSeconds(kHeldByChild) + relay_->child_held_seconds()) * 1000, 1e12));
  p.held_keep_ms = ms(kHeldByKeep);
  (void)control_->Send(FrameType::kProgress, p.ToJson(), 2);
}

// To our parent (or the sender, for a chain's head or a direct branch), on our data link: our
// position, our child's, and the sub-chain below us aggregated (docs/protocol.md §6, link beats).
void ReceiverImpl::SendLinkBeat() {
  LinkBeat b;
  b.received = ring_->head();
  b.least = b.received;
  std::lock_guard l(mu_);
  if (!up_channel_) return;
  bool heard = false;
  if (child_watcher_ && !child_watcher_->dropped() && child_watcher_->node_id() == expected_child_) {
    if (auto c = child_watcher_->beat()) {
      heard = true;
      b.has_next = true;
      b.next = c->received;
      b.nodes = std::min<uint64_t>(kMaxChainLen, c->nodes + 1);
      b.least = std::min(b.received, c->least);
    }
  }
  if (!heard && expected_child_ != 0 && !child_branch_fed_) {
    // A child we have not heard from yet (it is connecting, or its first beat is on the way):
    // its position is unknown but not below what we hold, so our parent keeps from there.
    b.has_next = true;
    b.next = ring_->tail();
  }
  // Seal only what the relay will take: a frame sealed and then dropped would leave a gap in the
  // link's sequence numbers, which the parent takes for an attack.
  if (!relay_->CanSendUpstream()) return;
  auto frame = up_channel_->Seal(FrameType::kProgress, b.ToJson());
  if (frame.ok()) (void)relay_->SendUpstream(up_link_, std::move(frame).value());
}

// How far back our window must reach: if our child fails, our grandchild resumes from us
// (keep_window.h), so we keep from the least of their positions, as our child's link beat
// says. The end of the chain keeps nothing, nor does a member whose child is fed by the sender.
void ReceiverImpl::KeepWindow() {
  std::shared_ptr<LinkWatcher> w;
  uint64_t child;
  bool branch_fed;
  {
    std::lock_guard l(mu_);
    w = child_watcher_;
    child = expected_child_;
    branch_fed = child_branch_fed_;
  }
  if (child == 0 || branch_fed) {
    ring_->MoveCursor(keep_cursor_, UINT64_MAX / 2);  // nobody downstream needs our window
    keep_released_ = true;
    return;
  }
  if (!w || w->node_id() != child) return;
  auto b = w->beat();
  if (!b) return;
  uint64_t keep = KeepForChild(b->received, b->has_next, b->next);
  // Only forward (older bytes may be gone already), except after a release: the ring clamps a
  // cursor moved back to what it still holds.
  if (keep_released_ || keep > keep_) {
    keep_ = keep;
    keep_released_ = false;
    ring_->MoveCursor(keep_cursor_, keep_);
  }
}

// Our child's link beats: silent for its FreezeDetector's timeout, it is frozen (or cut off);
// the sender, told once, drops it and re-links the chain around it.
void ReceiverImpl::WatchChild() {
  auto now = Clock::now();
  double late = last_watch_ == Clock::time_point{} ? 0 : std::chrono::duration<double>(now - last_watch_).count() - 0.3;
  last_watch_ = now;
  std::shared_ptr<LinkWatcher> w;
  {
    std::lock_guard l(mu_);
    if (!child_watcher_ || child_watcher_->node_id() != expected_child_ || child_watcher_->dropped()) return;
    w = child_watcher_;
  }
  w->Excuse(late, now);  // we had no CPU: that was not the child's silence
  if (!w->Frozen(now) || !w->MarkReported()) return;
  double silence = w->Silence(now);
  LogWarn("no link beat from {} (our downstream neighbour) for {:.1f} s: telling the sender", w->name(), silence);
  (void)control_->Send(FrameType::kSuspect, Suspect{w->node_id(), silence}.ToJson(), 2);
}

void ReceiverImpl::SendDone(const ConsumeResult& r) {
  Done d;
  d.ok = r.status.ok();
  d.payload = r.bytes;
  if (r.digest_hex.size() == 64) d.digest = r.digest_hex;
  if (!r.status.ok()) d.error = r.status.ToString().substr(0, kMaxReasonLen);
  d.phases = opt_.reporter->Phases();
  if (r.stream_seconds > 0) d.phases["stream"] = r.stream_seconds;
  opt_.reporter->State(d.ok ? "done" : "failed", d.ok ? std::string() : r.status.ToString());
  SendReports();
  (void)control_->Send(FrameType::kDone, d.ToJson(), 5);
  done_sent_ = true;
  if (d.ok)
    LogInfo("stream complete: {} verified{}{}; relaying until the session ends", FormatBytes(r.bytes),
            r.sha256_hex.empty() ? std::string() : ", sha256 " + r.sha256_hex,
            r.signature_ok ? ", signature verified" : "");
  else
    LogError("stream FAILED: {}", r.status.ToString());
}

// DONE without a verdict on the stream: this node stops (`unlinked`: no parent can feed it).
void ReceiverImpl::SendFailure(const std::string& error, bool unlinked, double timeout) {
  Done d;
  d.payload = consumer_ ? consumer_->payload_bytes() : 0;
  d.error = error.substr(0, kMaxReasonLen);
  d.unlinked = unlinked;
  (void)control_->Send(FrameType::kDone, d.ToJson(), timeout);
  done_sent_ = true;
}

// READY once the preparation ended; a value when this node cannot take part (the exit status).
std::optional<int> ReceiverImpl::SendReady() {
  ready_sent_ = true;
  Ready r;
  r.ok = prepare_result_.ok();
  if (prepare_result_.ok()) r.detail = prepare_result_.value().substr(0, 1000);
  else r.error = prepare_result_.status().ToString().substr(0, kMaxReasonLen);
  if (!prepare_result_.ok()) {
    opt_.reporter->State("failed", prepare_result_.status().ToString());
    LogError("cannot take part: {}", prepare_result_.status().ToString());
    SendReports();  // the server keeps this node's log, up to the reason
  }
  (void)control_->Send(FrameType::kReady, r.ToJson(), 5);
  if (!prepare_result_.ok()) return Finish(prepare_result_.status().Wrap("preparing for the clone"), false);
  LogInfo("prepared: {}; waiting for the stream", prepare_result_.value());
  return std::nullopt;
}

// Sends the queued state change, log lines and results of remote commands.
void ReceiverImpl::SendReports() {
  if (!control_) return;
  auto p = opt_.reporter->Take();
  if (p.has_state)
    (void)control_->Send(FrameType::kStatus, StatusMsg{p.state, p.detail.substr(0, 4000)}.ToJson(), 2);
  LogMsg batch;
  size_t bytes = 0;
  for (auto& line : p.lines) {
    if (line.size() > 4000) line = line.substr(0, 4000) + "...";
    bytes += line.size() + 8;
    batch.lines.push_back(std::move(line));
    if (bytes > 40000 || batch.lines.size() >= 500) {
      (void)control_->Send(FrameType::kLog, batch.ToJson(), 2);
      batch.lines.clear();
      bytes = 0;
    }
  }
  if (!batch.lines.empty()) (void)control_->Send(FrameType::kLog, batch.ToJson(), 2);
  std::vector<ExecResult> results;
  {
    std::lock_guard l(exec_mu_);
    results.swap(exec_results_);
  }
  for (const auto& r : results) (void)control_->Send(FrameType::kExecResult, r.ToJson(), 5);
}

// A command relayed by the server (`ka exec`): it runs only when this node was
// given an operator key and the command carries that key's signature over
// this session, this node's name, the command and a nonce never seen before.
void ReceiverImpl::StartExec(const Json& body) {
  auto e = chain::Exec::Decode(body);
  if (!e.ok()) {
    LogWarn("ignoring a malformed EXEC from the server: {}", e.status().message());
    return;
  }
  auto refuse = [&](const std::string& why) {
    LogWarn("REFUSED a remote command (asked by {}): {}: {}", e->by, why, e->command);
    std::lock_guard l(exec_mu_);
    exec_results_.push_back({e->id, -1, why});
  };
  if (!operator_) return refuse("remote commands are off on this node (start it with --allow-remote-commands KEY)");
  std::string sig;
  sig.resize(64);
  if (!FromHex(e->signature, reinterpret_cast<uint8_t*>(sig.data()), 64) ||
      !crypto::Verify(*operator_, ExecSignedMessage(session_id_, name_, e->command, e->nonce), sig))
    return refuse("the command is not signed by the operator key " + operator_->Fingerprint() + " for this node");
  {
    std::lock_guard l(exec_mu_);
    if (!exec_nonces_.insert(e->nonce).second) {
      exec_results_.push_back({e->id, -1, "this signed command already ran once (replayed)"});
      LogWarn("REFUSED a replayed remote command: {}", e->command);
      return;
    }
  }
  LogWarn("running a remote command signed by operator {} (asked by {}): {}", operator_->Fingerprint(), e->by,
          e->command);
  exec_threads_.emplace_back([this, id = e->id, cmd = e->command] {
    ExecOutcome r = RunRemoteCommand(cmd, 60, kMaxExecOutput);
    LogInfo("remote command exited with status {}{}", r.exit_code, r.timed_out ? " (timed out)" : "");
    std::lock_guard l(exec_mu_);
    exec_results_.push_back({id, r.exit_code, r.output});
  });
}

// PREPARE: the session's prepare object (a clone manifest). A node that
// trusts a signing key acts on no manifest that key did not sign.
Status ReceiverImpl::StartPrepare(const Json& body) {
  if (prepare_started_) {
    LogWarn("ignoring a second PREPARE from the sender");
    return Status::Ok();
  }
  prepare_started_ = true;
  auto p = Prepare::Decode(body);
  if (!p.ok()) return p.status();
  auto hash = crypto::Sha256::Of(p->prepare);
  {
    std::lock_guard l(prepare_mu_);
    prepare_hash_ = hash;
  }
  Status bad;
  Json object;
  if (trusted_) {
    std::string sig(64, '\0');
    if (p->signature.empty())
      bad = Status::Auth("the manifest is not signed; this node accepts only what " + trusted_->Fingerprint() +
                         " signed");
    else if (!FromHex(p->signature, reinterpret_cast<uint8_t*>(sig.data()), 64) ||
             !crypto::Verify(*trusted_, PrepareSignedMessage(session_id_, hash), sig))
      bad = Status::Auth("the manifest's signature does not verify with the trusted key " + trusted_->Fingerprint());
  }
  if (bad.ok()) {
    object = Json::parse(p->prepare, nullptr, false);
    if (object.is_discarded() || !object.is_object()) bad = Status::Protocol("PREPARE holds no JSON object");
  }
  if (!bad.ok() || !opt_.prepare) {
    prepare_result_ = !bad.ok() ? bad
                                : Status::Refused("this node cannot prepare for a clone (it runs `ka receive`, not "
                                                  "`ka join`)");
    prepare_done_ = true;
    return Status::Ok();
  }
  object["index"] = p->index;
  object["nodes"] = p->nodes;
  object["name"] = p->name;
  std::string local = LocalAddress(control_->fd());
  prepare_thread_ = std::thread([this, object, local] {
    try {
      prepare_result_ = opt_.prepare(object, local);
    } catch (const std::exception& e) {
      prepare_result_ = Status::Invalid(std::string("preparing failed: ") + e.what());
    }
    prepare_done_ = true;
    Wake();
  });
  return Status::Ok();
}

}  // namespace ka::chain
