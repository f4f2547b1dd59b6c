// chain::Sender, and SenderImpl's run loop and end of session (see sender_impl.h).
#include "chain/sender.h"

#include "chain/sender_impl.h"
#include "util/log.h"

namespace ka::chain {

namespace {

class NullObserver : public SessionObserver {
 public:
  void SessionStarted(const std::string&, const std::string&, std::optional<uint64_t>) override {}
  void PhaseChanged(const std::string&) override {}
  void ChainChanged(const std::vector<std::string>&) override {}
  void BytesSent(uint64_t) override {}
  void StreamFinished() override {}
  void NodeJoined(const std::string&, const std::string&) override {}
  void NodePosition(const std::string&, int) override {}
  void NodeState(const std::string&, const std::string&, const std::string&) override {}
  void NodeBytes(const std::string&, uint64_t) override {}
  void NodeLog(const std::string&, const std::vector<std::string>&) override {}
  void NodeDone(const std::string&) override {}
  void NodeFailed(const std::string&, const std::string&) override {}
};

SessionObserver& ObserverOrNull(SessionObserver* o) {
  static NullObserver none;
  return o ? *o : none;
}

}  // namespace

Sender::Sender(const SendOptions& options, SessionObserver* observer)
    : impl_(std::make_unique<SenderImpl>(options, observer)) {}
Sender::~Sender() = default;
void Sender::SetStatusHandler(StatusHandler handler) { impl_->status_handler = std::move(handler); }
void Sender::Accept(UniqueFd fd, const Endpoint& peer) { impl_->Accept(std::move(fd), peer); }
uint64_t Sender::session_id() const { return impl_->session_id(); }
Result<ExecResult> Sender::RelayExec(const std::string& node, Exec command, double timeout,
                                     const std::function<void()>& sent) {
  return impl_->RelayExec(node, std::move(command), timeout, sent);
}

Result<SessionReport> Sender::Run() {
  InitCrypto();
  try {
    return impl_->Run();
  } catch (const std::exception& e) {  // a bug, not a peer: say so rather than abort
    LogError("internal error: {}", e.what());
    return Status::Invalid(std::string("internal error: ") + e.what());
  }
}

SenderImpl::SenderImpl(const SendOptions& o, SessionObserver* observer)
    : opt_(o),
      observer_(ObserverOrNull(observer)),
      session_id_(RandomU64()),
      ring_(RoundUp(std::max<uint64_t>(o.buffer, 4ull << 20), kHeaderSize + o.chunk)),
      branches_(session_id_, o.chunk) {}

// The stream, from the start until every node has its verdict.
void SenderImpl::Stream() {
  std::unique_lock l(mu_);
  started_ = true;
  t_start_ = Clock::now();
  OrderChain();
  if (!opt_.prepare.is_null()) {
    PreparePhase(l);
    t_start_ = Clock::now();
  }
  SendChain(l);
  observer_.PhaseChanged("streaming");
  while (!AllFinished()) {
    cv_.wait_for(l, std::chrono::milliseconds(100));
    CheckTimeouts();
    if (relink_needed_) {
      relink_needed_ = false;
      SendChain(l);
    }
  }
  observer_.StreamFinished();
}

// The stream's time: until the last OK node had verified it (its finishing steps, such as a
// clone's initramfs and boot loader, are reported apart, as phases).
double SenderImpl::StreamSeconds() {
  std::lock_guard l(mu_);
  double seconds = 0;
  for (auto& n : nodes_) {
    if (n->state != NodeState::kDone) continue;
    auto it = n->phases.find("stream");
    seconds = std::max(seconds, it != n->phases.end() && it->second > 0 ? std::min(it->second, n->seconds)
                                                                         : n->seconds);
  }
  return seconds;
}

Result<SessionReport> SenderImpl::Run() {
  if (Status s = Setup(); !s.ok()) {
    LogError("{}", s.ToString());
    StopThreads();
    JoinThreads();
    return s;
  }
  LogInfo("session '{}' (id {:016x}): streaming {} to {} node(s); listening on TCP {} and UDP {}", opt_.session,
          session_id_, source_->Describe(), opt_.nodes, opt_.port, opt_.discovery_port);
  if (!WaitForStart()) {
    LogError("no receivers joined within {:.0f} s; giving up", opt_.join_timeout);
    Shutdown();
    return Status::Timeout(fmt::format("no receivers joined within {:.0f} s", opt_.join_timeout));
  }
  Stream();
  double seconds = StreamSeconds();
  double session_seconds = std::chrono::duration<double>(Clock::now() - t_start_).count() + prepare_seconds_;
  Shutdown();
  observer_.PhaseChanged("done");
  SessionReport report = BuildReport(seconds);
  report.session_seconds = session_seconds;
  if (!opt_.prepare.is_null()) report.extra["prepare_seconds"] = prepare_seconds_;
  return report;
}

SessionReport SenderImpl::BuildReport(double seconds) {
  SessionReport r;
  r.session = opt_.session;
  r.session_id = fmt::format("{:016x}", session_id_);
  r.source = source_->Describe();
  r.bytes = producer_->bytes();
  r.seconds = seconds;
  r.digest = producer_->digest_hex();
  r.digest_mode = producer_crypto_.digest ? "sha256" : "tags";
  r.payload_sha256 = producer_->payload_sha256_hex();
  r.cipher = crypto::CipherName(data_key_.cipher);
  if (sign_key_) r.signed_by = sign_key_->pub.Fingerprint();
  // A source cut short because the session ended (every node failed) is not a source failure.
  if (!producer_->status().ok() && producer_->status().code() != Status::Code::kClosed)
    r.error = "source failed: " + producer_->status().ToString();
  std::lock_guard l(mu_);
  for (auto& n : nodes_) {
    NodeReport nr;
    nr.id = n->id;
    nr.name = n->name;
    nr.address = n->endpoint.Host();
    nr.mac = n->mac;
    nr.position = n->position;
    nr.chain = n->chain + 1;
    nr.ok = n->state == NodeState::kDone;
    nr.bytes = n->payload;
    nr.digest = n->digest;
    nr.error = n->error;
    nr.seconds = n->seconds;
    nr.phases = n->phases;
    nr.max_heartbeat_gap = n->liveness ? n->liveness->max_gap() : 0;
    nr.held_back_s = n->held_back_s;
    nr.held_back_by = n->held_back_by;
    r.nodes.push_back(nr);
  }
  return r;
}

// Wakes every thread of ours for good: nothing waits for a timer to notice.
void SenderImpl::StopThreads() {
  {
    std::lock_guard l(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  {
    std::lock_guard l(mu_);  // Accept() waits on cv_ for the setup
    cv_.notify_all();
  }
  handshakes_.StopAccepting();
  discovery_.Stop();
  {
    std::lock_guard l(mu_);
    for (auto& r : relays_) r->Stop();
  }
  ring_.Close();
}

void SenderImpl::JoinThreads() {
  for (auto* t : {&accept_thread_, &producer_thread_, &heartbeat_thread_})
    if (t->joinable()) t->join();
  for (auto& t : relay_threads_)  // no new relay after the start: safe without the lock
    if (t.joinable()) t.join();
}

// BYE to every member (with its verdict), then every thread and connection ends.
void SenderImpl::Shutdown() {
  {
    std::lock_guard l(mu_);
    ending_ = true;
    // Before BYE releases the nodes (which may reboot at once): e.g. switch their PXE boot.
    if (opt_.on_node_final)
      for (auto& n : nodes_) opt_.on_node_final(n->name, n->mac, n->state == NodeState::kDone);
    for (auto& n : nodes_) {
      if (!n->in_chain) continue;
      Bye bye;
      bye.ok = n->state == NodeState::kDone;
      if (opt_.stagger > 0) bye.release_after = opt_.stagger * std::max(0, n->position - 1);
      if (!bye.ok) bye.error = n->error.substr(0, kMaxReasonLen);
      (void)n->channel->Send(FrameType::kBye, bye.ToJson(), 1);
    }
  }
  {
    std::unique_lock l(mu_);
    cv_.wait_for(l, std::chrono::seconds(2), [&] { return readers_active_ == 0; });
  }
  StopThreads();
  {
    std::lock_guard l(mu_);
    for (auto& n : nodes_) n->channel->Shutdown();
  }
  branches_.StopAll();
  JoinThreads();
  handshakes_.ShutdownAll();
  for (auto& n : nodes_)
    if (n->reader.joinable()) n->reader.join();
}

}  // namespace ka::chain
