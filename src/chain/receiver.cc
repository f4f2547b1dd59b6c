// chain::Receiver and RunReceive, and ReceiverImpl's run loop on the control
// channel and the end of the node's session (see receiver_impl.h).
#include "chain/receiver.h"

#include <poll.h>
#include <unistd.h>

#include "chain/receiver_impl.h"
#include "util/log.h"

namespace ka::chain {

namespace {

ReceiveOptions WithReporter(ReceiveOptions o) {
  if (!o.reporter) o.reporter = std::make_shared<NodeReporter>();
  return o;
}

}  // namespace

Receiver::Receiver(const ReceiveOptions& options) : impl_(std::make_unique<ReceiverImpl>(WithReporter(options))) {}
Receiver::~Receiver() = default;
void Receiver::Accept(UniqueFd fd, const Endpoint& peer) { impl_->Accept(std::move(fd), peer); }

int Receiver::Run() {
  InitCrypto();
  try {
    return impl_->Run();
  } catch (const std::exception& e) {
    LogError("internal error: {}", e.what());
    return 2;
  }
}

int RunReceive(const ReceiveOptions& options) {
  ReceiveOptions o = WithReporter(options);
  auto forward = ForwardLogs(o.reporter);
  int rc = 2;
  {
    Receiver r(o);
    rc = r.Run();
  }
  RemoveLogSink(forward);  // a later session of this process reports to its own reporter
  return rc;
}

ReceiverImpl::ReceiverImpl(const ReceiveOptions& o) : opt_(o) {}

int ReceiverImpl::Run() {
  if (Status s = Join(); !s.ok()) return Finish(s, false);
  auto last_heard = Clock::now();
  for (;;) {
    if (auto rc = Report()) return *rc;
    double silent = std::chrono::duration<double>(Clock::now() - last_heard).count();
    // The sender beats every control_beat_ s (seconds apart when it has thousands of nodes).
    if (silent > std::max(opt_.sender_timeout, 4 * control_beat_))
      return Finish(Status::Timeout(fmt::format("the sender has been silent for {:.0f} s; giving up", silent)), false);
    if (!WaitControlOrWake(static_cast<int>(std::min(100.0, 1000 * LinkBeatSeconds(freeze_detect_))))) continue;
    auto m = control_->Read(DeadlineIn(10));
    if (!m.ok()) return ControlFailed(m.status());
    last_heard = Clock::now();
    if (auto rc = HandleMessage(*m)) return *rc;
  }
}

// What is due now: DONE, a link failure, READY, state and log lines, the heartbeat to the
// sender; the link beat to our parent and a look at our child's. A value when this node's
// session ends (its exit status).
std::optional<int> ReceiverImpl::Report() {
  if (consumer_->finished() && !done_sent_) SendDone(consumer_->result());
  {
    std::lock_guard l(mu_);
    if (!link_failure_.ok() && !done_sent_) {
      LogError("{}", link_failure_.ToString());
      SendFailure(link_failure_.ToString(), /*unlinked=*/true, 5);
    }
  }
  if (prepare_done_ && !ready_sent_)
    if (auto rc = SendReady()) return rc;
  auto now = Clock::now();
  if (now - last_link_beat_ >= std::chrono::duration<double>(LinkBeatSeconds(freeze_detect_))) {
    SendReports();
    SendLinkBeat();
    KeepWindow();
    last_link_beat_ = now;
  }
  if (now - last_beat_ >= std::chrono::duration<double>(control_beat_)) {
    SendProgress();
    last_beat_ = now;
  }
  WatchChild();
  return std::nullopt;
}

int ReceiverImpl::ControlFailed(const Status& s) {
  if (s.code() == Status::Code::kAuth || s.code() == Status::Code::kProtocol) {
    // Our direction of the channel still works: tell the sender why we stop.
    std::string error = "the control channel from the sender failed: " + s.ToString();
    opt_.reporter->State("failed", error.substr(0, kMaxReasonLen));
    SendReports();
    SendFailure(error, /*unlinked=*/false, 2);
    return Finish(s.Wrap("the control channel from the sender"), false);
  }
  return Finish(s.Wrap("lost contact with the sender" + std::string(done_sent_ ? "" : " before the end of the stream")),
                false);
}

// One message from the sender. A value when this node's session ends (its exit status).
std::optional<int> ReceiverImpl::HandleMessage(const Message& m) {
  Status bad;  // a message the protocol does not allow from the sender ends this node's session
  switch (m.type) {
    case FrameType::kChain:
      bad = HandleChain(m.body);
      break;
    case FrameType::kProgress:  // the sender's heartbeat
      if (auto p = SenderProgress::Decode(m.body); !p.ok()) bad = p.status();
      break;
    case FrameType::kPrepare:
      bad = StartPrepare(m.body);
      break;
    case FrameType::kExec:
      StartExec(m.body);
      break;
    case FrameType::kBye:
      if (auto bye = Bye::Decode(m.body); !bye.ok()) bad = bye.status();
      else return OnBye(m.body);
      break;
    case FrameType::kAbort: {
      auto a = chain::Abort::Decode(m.body);
      return Finish(Status::Refused("dropped by the sender: " + (a.ok() ? a->reason : "no reason given")), false);
    }
    default:
      bad = Status::Protocol(std::string("the sender may not send ") + TypeName(m.type));
  }
  if (bad.ok()) return std::nullopt;
  SendFailure(bad.ToString(), /*unlinked=*/false, 5);
  return Finish(bad.Wrap("a message from the sender"), false);
}

// BYE: the sender's verdict on this node; the output is committed only when it is OK.
int ReceiverImpl::OnBye(const Json& body) {
  auto bye = Bye::Decode(body).value();
  if (opt_.on_bye) opt_.on_bye(body);
  SendReports();  // the last log lines reach the server's log of this node
  if (!consumer_->finished())
    return Finish(Status::Refused("the sender ended the session before this node finished"), false);
  if (!done_sent_) SendDone(consumer_->result());
  if (!bye.ok && consumer_->result().status.ok())
    return Finish(Status::Refused("the sender did not count this node OK: " +
                                  (bye.error.empty() ? std::string("no reason given") : bye.error)),
                  false);
  return Finish(Status::Ok(), bye.ok);
}

void ReceiverImpl::Wake() {
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

// True when the control connection has something to read; also returns early
// when Wake() was called (then false, after draining it).
bool ReceiverImpl::WaitControlOrWake(int timeout_ms) {
  pollfd p[2] = {{control_->fd(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  if (::poll(p, 2, timeout_ms) <= 0) return false;
  if (p[1].revents & POLLIN) {
    uint64_t v;
    (void)!::read(wake_.get(), &v, sizeof v);
  }
  return (p[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

int ReceiverImpl::Finish(const Status& session_status, bool commit) {
  stop_ = true;
  child_handshakes_.StopAccepting();
  link_cv_.notify_all();
  if (relay_) relay_->Stop();
  if (ring_) ring_->Close();
  if (control_) control_->Shutdown();
  if (prepare_thread_.joinable()) prepare_thread_.join();  // disk work cannot be cut short
  for (auto& t : exec_threads_) t.join();
  for (auto* t : {&consumer_thread_, &relay_thread_, &accept_thread_, &link_thread_})
    if (t->joinable()) t->join();
  child_handshakes_.ShutdownAll();
  if (!consumer_ && output_) (void)output_->Close(false);
  bool completed = consumer_ && consumer_->result().status.ok();
  if (!session_status.ok()) {
    LogError("{}", session_status.ToString());
    // The stream verified but the session did not confirm us: nothing of it may be used.
    if (completed) output_->Discard(session_status.ToString());
    if (output_ && !opt_.output.empty() && opt_.output != "-")
      LogError("output left incomplete (not at {})", opt_.output);
    return 1;
  }
  if (!completed) return 1;
  if (commit) {
    if (Status c = output_->Commit(); !c.ok()) {
      LogError("{}", c.ToString());
      output_->Discard(c.ToString());
      return 1;
    }
  }
  return 0;
}

}  // namespace ka::chain
