#include "chain/receiver.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "chain/auth.h"
#include "chain/consumer.h"
#include "chain/discovery.h"
#include "chain/handshake.h"
#include "chain/handshake_pool.h"
#include "chain/messages.h"
#include "chain/output.h"
#include "chain/relay.h"
#include "chain/remote_exec.h"
#include "chain/ring.h"
#include "chain/stream_seal.h"
#include "crypto/key_file.h"
#include "crypto/sha256.h"
#include "util/log.h"
#include "util/log_limiter.h"
#include "util/units.h"

namespace ka::chain {

namespace {

constexpr double kHeartbeatSeconds = 0.25;

struct Peer {
  uint64_t id = 0;
  std::string name;
  std::string host;
  uint16_t port = 0;
};

class Receiver {
 public:
  explicit Receiver(const ReceiveOptions& o) : opt_(o) {}
  int Run();

 private:
  Status LoadKeys();
  Status Join();
  Result<ClientResult> JoinOnce(const std::string& name);
  Status HandleChain(const Json& body);
  void LinkLoop();
  Status Link(const Peer& parent, bool branch);
  void AcceptChild(UniqueFd fd, Endpoint peer, HandshakePool::Slot& slot);
  void SendProgress();
  void SendDone(const ConsumeResult& r);
  Status StartPrepare(const Json& body);
  void SendReports();
  void StartExec(const Json& body);
  int Finish(const Status& session_status, bool commit);
  void Wake();
  bool WaitControlOrWake(int timeout_ms);

  ReceiveOptions opt_;
  Secret secret_;
  std::unique_ptr<crypto::PublicKey> trusted_;   // --trust
  std::unique_ptr<crypto::PublicKey> operator_;  // --allow-remote-commands
  Endpoint sender_;
  UniqueFd listener_;
  std::unique_ptr<SecureChannel> control_;
  uint64_t session_id_ = 0;
  uint64_t node_id_ = 0;
  std::string name_;
  uint32_t chunk_ = 0;
  DataKey data_key_;
  bool digest_ = false;

  std::unique_ptr<Output> output_;
  std::unique_ptr<Ring> ring_;
  std::unique_ptr<Relay> relay_;
  std::unique_ptr<Consumer> consumer_;
  std::thread relay_thread_, consumer_thread_, accept_thread_, link_thread_, prepare_thread_;
  std::atomic<bool> prepare_done_{false};
  bool prepare_started_ = false, ready_sent_ = false;
  Result<std::string> prepare_result_{std::string()};
  std::mutex prepare_mu_;
  std::array<uint8_t, 32> prepare_hash_{};  // SHA-256 of the session's prepare text; guarded by prepare_mu_
  std::mutex exec_mu_;
  std::vector<ExecResult> exec_results_;
  std::list<std::thread> exec_threads_;
  std::set<std::string> exec_nonces_;  // each signed command runs at most once
  HandshakePool child_handshakes_{16, 4};
  LogLimiter refusals_;
  std::atomic<bool> stop_{false};
  bool done_sent_ = false;
  bool discovery_failed_ = false;
  UniqueFd wake_{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};  // the main loop's poll: something to report now

  std::mutex mu_;
  std::condition_variable link_cv_;
  uint64_t epoch_ = 0;
  uint64_t expected_child_ = 0;  // node id allowed to connect to us
  int child_hold_ = -1;          // keeps data for a child that has not connected yet
  int keep_cursor_ = -1;         // keeps what our grandchild may need (told by the sender)
  uint64_t keep_ = 0;
  Peer wanted_parent_;           // from the latest CHAIN
  uint64_t wanted_epoch_ = 0;
  Status link_failure_;          // set when no parent can feed us
  int linking_fd_ = -1;          // connection being set up to a parent (shut down if it is superseded)
  uint64_t linking_to_ = 0;
};

Status Receiver::LoadKeys() {
  auto secret = LoadSecretOrWarn(opt_.secret_file, "this node will accept data from ANY sender of session '" +
                                                        opt_.session + "' and cannot prove who it is");
  if (!secret.ok()) return secret.status();
  secret_ = secret.value();
  if (!opt_.trust.empty()) {
    auto k = crypto::LoadPublicKey(opt_.trust);
    if (!k.ok()) return k.status().Wrap("--trust");
    trusted_ = std::make_unique<crypto::PublicKey>(k.value());
    LogInfo("accepting only a stream signed by {}", trusted_->Fingerprint());
  }
  if (!opt_.operator_key.empty()) {
    auto k = crypto::LoadPublicKey(opt_.operator_key);
    if (!k.ok()) return k.status().Wrap("--allow-remote-commands");
    operator_ = std::make_unique<crypto::PublicKey>(k.value());
    LogWarn("remote commands signed by operator key {} will run on this node", operator_->Fingerprint());
  }
  prepare_hash_ = crypto::Sha256::Of("");
  return Status::Ok();
}

// One attempt: find the sender, connect, authenticate.
Result<ClientResult> Receiver::JoinOnce(const std::string& name) {
  if (!opt_.server.empty()) {
    auto e = ResolveEndpoint(opt_.server, opt_.port);
    if (!e.ok()) return e.status();
    sender_ = e.value();
  } else {
    std::vector<uint32_t> targets;
    for (const auto& b : opt_.broadcast) {
      in_addr a{};
      if (inet_pton(AF_INET, b.c_str(), &a) != 1) return Status::Invalid("bad --broadcast address '" + b + "'");
      targets.push_back(a.s_addr);
    }
    auto e = DiscoverSender(opt_.session, opt_.discovery_port, opt_.wait, targets);
    if (!e.ok()) {
      discovery_failed_ = true;  // it already waited --wait tries
      return e.status();
    }
    sender_ = e.value();
  }
  auto c = ConnectTcp(sender_, DeadlineIn(10));
  if (!c.ok()) return c.status().Wrap("connecting to the sender " + sender_.ToString());
  Hello hello;
  hello.session = opt_.session;
  hello.role = "control";
  hello.name = name;
  hello.data_port = LocalPort(listener_.get());
  hello.buffer = opt_.buffer;
  hello.mac = !opt_.mac.empty() ? opt_.mac : MacOfAddress(LocalAddress(c.value().get()));
  hello.aes = crypto::PreferredCipher() == crypto::Cipher::kAes256Gcm;
  return ClientHandshake(std::move(c).value(), secret_, hello, 10);
}

Status Receiver::Join() {
  KA_RETURN_IF_ERROR(LoadKeys());
  // Validate the output before joining: a bad path should fail now, not after the stream.
  auto out = opt_.make_output ? opt_.make_output()
              : opt_.exec.empty() ? OpenPathOutput(opt_.output)
                                  : OpenExecOutput(opt_.exec);
  if (!out.ok()) return out.status();
  output_ = std::move(out).value();
  auto l = ListenTcp("", opt_.data_port);
  if (!l.ok()) return l.status().Wrap("opening the data port for the next node");
  listener_ = std::move(l).value();
  std::string name = opt_.name;
  if (name.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    name = host;
  }
  // A refused, reset or silent join is tried again, with backoff, until --join-timeout:
  // a busy sender, a flood of strangers or a rogue answer to discovery must not keep a
  // genuine node out. A wrong secret is said at once but also retried a few times (the
  // refusal may come from an impostor that answered our discovery).
  Deadline give_up = DeadlineIn(opt_.join_timeout);
  double backoff = 0.5;
  int auth_failures = 0;
  Result<ClientResult> joined = Status::Closed("not tried");
  for (int attempt = 1;; ++attempt) {
    joined = JoinOnce(name);
    if (joined.ok()) break;
    const Status& s = joined.status();
    bool fatal = s.code() == Status::Code::kInvalid || discovery_failed_ ||
                 (s.code() == Status::Code::kAuth && ++auth_failures >= 3) ||
                 (s.code() == Status::Code::kRefused && s.message().rfind(kSealedRefusal, 0) == 0);
    if (fatal || Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(backoff)) >
                     give_up)
      return s;
    LogWarn("join attempt {} failed: {}; trying again in {:.1f} s", attempt, s.ToString(), backoff);
    std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
    backoff = std::min(backoff * 2, 5.0);
  }
  auto w = ControlWelcome::Decode(joined->welcome);
  if (!w.ok()) return w.status().Wrap("the sender's WELCOME");
  session_id_ = w->session_id;
  node_id_ = w->node_id;
  chunk_ = w->chunk_size;
  name_ = w->name.empty() ? name : w->name;
  digest_ = w->digest == "sha256";
  data_key_.cipher = crypto::ParseCipher(w->cipher).value();
  if (!FromHex(w->data_key, data_key_.key.data(), data_key_.key.size()))
    return Status::Protocol("the sender's WELCOME has a malformed data key");
  if (trusted_ && w->signer != trusted_->Fingerprint())
    return Status::Auth(w->signer.empty()
                            ? "the sender does not sign its stream; this node accepts only streams signed by " +
                                  trusted_->Fingerprint() + " (start the sender with --sign-key)"
                            : "the sender signs with " + w->signer + ", not with the trusted key " +
                                  trusted_->Fingerprint());
  control_ = std::move(joined->channel);

  uint64_t frame = kHeaderSize + chunk_;
  uint64_t cap = std::max<uint64_t>(opt_.buffer, 4 * frame);
  cap = (cap + frame - 1) / frame * frame;
  ring_ = std::make_unique<Ring>(static_cast<size_t>(cap));
  relay_ = std::make_unique<Relay>(*ring_, opt_.splice);
  keep_cursor_ = ring_->AddCursor(0);
  ConsumerCrypto cc;
  cc.key = data_key_;
  cc.chunk_size = chunk_;
  cc.digest = digest_;
  if (trusted_) {
    crypto::PublicKey k = *trusted_;
    cc.verify = [k](std::string_view m, std::string_view sig) { return crypto::Verify(k, m, sig); };
    cc.trusted = k.Fingerprint();
  }
  cc.prepare_hash = [this] {
    std::lock_guard l(prepare_mu_);
    return prepare_hash_;
  };
  // The consumer waits for data until the ring is closed: losing the
  // upstream is not the end, the sender re-links us.
  consumer_ = std::make_unique<Consumer>(*ring_, session_id_, cc, output_.get(), nullptr);
  consumer_thread_ = std::thread([this] {
    consumer_->Run();
    Wake();  // DONE goes out now, not at the next heartbeat
  });
  relay_thread_ = std::thread([this] { relay_->Run(); });
  accept_thread_ = std::thread([this] {
    child_handshakes_.AcceptLoop(listener_.get(), [this](UniqueFd fd, Endpoint peer, HandshakePool::Slot& s) {
      try {
        AcceptChild(std::move(fd), peer, s);
      } catch (const std::exception& e) {
        LogError("data connection from {} failed: {}", peer.ToString(), e.what());
      }
    });
  });
  link_thread_ = std::thread([this] { LinkLoop(); });
  LogInfo("joined session '{}' at {} as {} (node id {}); data sealed with {}{}; waiting for the chain", opt_.session,
          sender_.ToString(), name_, node_id_, w->cipher,
          w->signer.empty() ? std::string() : ", signed by " + w->signer);
  opt_.reporter->State("joined", sender_.ToString());
  return Status::Ok();
}

Status Receiver::Link(const Peer& parent, bool branch) {
  Endpoint to;
  if (parent.id == 0 || branch) {
    to = sender_;
  } else {
    auto e = ResolveEndpoint(parent.host + ":" + std::to_string(parent.port), parent.port);
    if (!e.ok()) return e.status();
    to = e.value();
  }
  // Stop reading the old upstream first: from here on our position is final.
  relay_->DetachUpstream();
  uint64_t pos = ring_->head();
  auto c = ConnectTcp(to, DeadlineIn(3));
  if (!c.ok()) return c.status();
  {
    std::lock_guard l(mu_);
    linking_fd_ = c.value().get();
    linking_to_ = parent.id;
  }
  Hello hello;
  hello.session = opt_.session;
  hello.role = "data";
  hello.session_id = session_id_;
  hello.node_id = node_id_;
  hello.name = name_;
  hello.position = pos;
  hello.branch = branch;
  auto w = ClientHandshake(std::move(c).value(), secret_, hello, 5);
  {
    std::lock_guard l(mu_);
    linking_fd_ = -1;
  }
  if (!w.ok()) return w.status();
  auto dw = DataWelcome::Decode(w->welcome);
  if (!dw.ok()) return dw.status();
  if (dw->position != pos) return Status::Protocol("the parent would feed us from another position");
  LogInfo("receiving from {} ({}) from stream position {}", branch ? "the sender (direct branch)" : parent.name,
          to.ToString(), pos);
  relay_->SetUpstream(w->channel->Release());
  return Status::Ok();
}

void Receiver::LinkLoop() {
  uint64_t linked_epoch = 0;
  uint64_t linked_parent = UINT64_MAX;
  int failures = 0;
  while (!stop_) {
    Peer parent;
    uint64_t epoch;
    {
      std::unique_lock l(mu_);
      link_cv_.wait_for(l, std::chrono::milliseconds(200));
      if (stop_) return;
      if (wanted_epoch_ == 0) continue;
      bool parent_changed = wanted_parent_.id != linked_parent;
      bool lost = relay_->upstream_ended() && !consumer_->finished();
      if (!parent_changed && !lost && linked_epoch != 0) {
        linked_epoch = wanted_epoch_;
        continue;
      }
      parent = wanted_parent_;
      epoch = wanted_epoch_;
    }
    if (relay_->upstream_ended() && linked_parent == parent.id && linked_epoch == epoch) {
      // Our parent closed on us without a new chain yet: wait for the sender's re-link.
      if (failures++ < 25) continue;
    }
    Status s = Link(parent, false);
    bool window = !s.ok() && s.message().find("replay window") != std::string::npos;
    if (window && parent.id != 0) {
      LogWarn("{} cannot resume us: {}; asking the sender for a direct branch", parent.name, s.ToString());
      s = Link(parent, true);
      window = !s.ok();
    }
    if (window) {  // nobody holds our data any more: we are out, the others go on
      std::lock_guard l(mu_);
      link_failure_ = s.Wrap("resuming at stream position " + std::to_string(ring_->head()) +
                             " needs data no longer held anywhere");
      Wake();
      return;
    }
    if (s.ok()) {
      linked_parent = parent.id;
      linked_epoch = epoch;
      failures = 0;
      continue;
    }
    LogWarn("cannot link to {} (epoch {}): {}", parent.name, epoch, s.ToString());
    if (s.code() == Status::Code::kAuth || ++failures > 50) {
      std::lock_guard l(mu_);
      link_failure_ = s.Wrap("linking to upstream " + parent.name);
      Wake();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Status Receiver::HandleChain(const Json& body) {
  auto chain = ChainMsg::Decode(body);
  if (!chain.ok()) return chain.status();
  std::vector<Peer> order;
  for (const auto& e : chain->order) order.push_back(Peer{e.id, e.name, e.host, e.port});
  size_t me = order.size();
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i].id == node_id_) me = i;
  if (me == order.size()) return Status::Protocol("this node is not in the CHAIN");
  std::lock_guard l(mu_);
  if (chain->epoch <= epoch_) return Status::Ok();  // stale
  epoch_ = chain->epoch;
  uint64_t child = me + 1 < order.size() ? order[me + 1].id : 0;
  if (child != expected_child_) {
    if (expected_child_ != 0) relay_->KickChild();  // e.g. a frozen child that is still connected
    expected_child_ = child;
    if (child == 0) {
      relay_->ReleaseHold();  // nobody will resume from us
      if (child_hold_ >= 0) {
        ring_->RemoveCursor(child_hold_);
        child_hold_ = -1;
      }
    } else if (child_hold_ < 0 && !relay_->has_child() && epoch_ == 1) {
      child_hold_ = ring_->AddCursor(ring_->head());  // keep the start for our first child
    }
  }
  wanted_parent_ = order[me - 1];
  wanted_epoch_ = epoch_;
  if (epoch_ == 1 && opt_.reporter->state() == "joined") opt_.reporter->State("receiving");
  // A handshake in progress with a parent we no longer want (it may be frozen) ends now.
  if (linking_fd_ >= 0 && linking_to_ != wanted_parent_.id) ::shutdown(linking_fd_, SHUT_RDWR);
  LogInfo("chain epoch {}: position {} of {}, upstream {}, downstream {}", epoch_, me, order.size() - 1,
          order[me - 1].name, child ? order[me + 1].name : std::string("none (end of chain)"));
  link_cv_.notify_all();
  return Status::Ok();
}

void Receiver::AcceptChild(UniqueFd fd, Endpoint peer, HandshakePool::Slot& slot) {
  auto r = ServerHandshake(std::move(fd), secret_, ServerLimits{});
  if (!r.ok()) {
    uint64_t more = 0;
    if (refusals_.Allow(r.status().code() == Status::Code::kAuth ? "auth" : "other", &more))
      LogWarn("refused data connection from {}: {}{}", peer.ToString(), r.status().ToString(),
              more ? fmt::format(" ({} more refusals like it were not logged)", more) : std::string());
    return;
  }
  slot.Authenticated();
  const Hello& hello = r->hello;
  auto check = [&]() -> Status {
    if (hello.role != "data") return Status::Refused("only data connections are accepted here");
    if (hello.session != opt_.session || hello.session_id != session_id_)
      return Status::Refused("data connection for another session");
    std::lock_guard l(mu_);
    if (hello.node_id != expected_child_)
      return Status::Refused("node " + std::to_string(hello.node_id) + " is not our downstream neighbour");
    if (hello.position > ring_->head())
      return Status::Refused("position " + std::to_string(hello.position) + " is ahead of us");
    if (!ring_->Holds(hello.position))
      return Status::Refused("position " + std::to_string(hello.position) +
                             " is no longer in our replay window (it holds " + std::to_string(ring_->tail()) + ".." +
                             std::to_string(ring_->head()) + ")");
    return Status::Ok();
  };
  if (Status s = check(); !s.ok()) {
    SendRefuse(*r->channel, s.message());
    LogWarn("refused data connection from {}: {}", peer.ToString(), s.message());
    return;
  }
  if (!r->channel->Send(FrameType::kWelcome, DataWelcome{hello.position}.ToJson(), 5).ok()) return;
  relay_->OfferChild(r->channel->Release(), hello.position, hello.name.empty() ? peer.Host() : hello.name);
  std::lock_guard l(mu_);
  if (child_hold_ >= 0) {
    ring_->RemoveCursor(child_hold_);
    child_hold_ = -1;
  }
}

void Receiver::SendProgress() {
  NodeProgress p{ring_->head(), consumer_->payload_bytes(), consumer_->position(), !relay_->upstream_ended()};
  (void)control_->Send(FrameType::kProgress, p.ToJson(), 2);
}

void Receiver::SendDone(const ConsumeResult& r) {
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

void Receiver::Wake() {
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

// True when the control connection has something to read; also returns early
// when Wake() was called (then false, after draining it).
bool Receiver::WaitControlOrWake(int timeout_ms) {
  pollfd p[2] = {{control_->fd(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  if (::poll(p, 2, timeout_ms) <= 0) return false;
  if (p[1].revents & POLLIN) {
    uint64_t v;
    (void)!::read(wake_.get(), &v, sizeof v);
  }
  return (p[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

int Receiver::Finish(const Status& session_status, bool commit) {
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

// Sends the queued state change, log lines and results of remote commands.
void Receiver::SendReports() {
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
void Receiver::StartExec(const Json& body) {
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
Status Receiver::StartPrepare(const Json& body) {
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

int Receiver::Run() {
  if (Status s = Join(); !s.ok()) return Finish(s, false);
  auto last_beat = Clock::now() - std::chrono::seconds(1);
  auto last_heard = Clock::now();
  for (;;) {
    if (consumer_->finished() && !done_sent_) SendDone(consumer_->result());
    {
      std::lock_guard l(mu_);
      if (!link_failure_.ok() && !done_sent_) {
        LogError("{}", link_failure_.ToString());
        Done d;
        d.payload = consumer_->payload_bytes();
        d.error = link_failure_.ToString().substr(0, kMaxReasonLen);
        d.unlinked = true;
        (void)control_->Send(FrameType::kDone, d.ToJson(), 5);
        done_sent_ = true;
      }
    }
    if (prepare_done_ && !ready_sent_) {
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
    }
    if (Clock::now() - last_beat >= std::chrono::duration<double>(kHeartbeatSeconds)) {
      SendReports();
      SendProgress();
      last_beat = Clock::now();
    }
    double silent = std::chrono::duration<double>(Clock::now() - last_heard).count();
    if (silent > opt_.sender_timeout)
      return Finish(Status::Timeout(fmt::format("the sender has been silent for {:.0f} s; giving up", silent)), false);
    if (!WaitControlOrWake(100)) continue;
    auto m = control_->Read(DeadlineIn(10));
    if (!m.ok()) {
      Status::Code code = m.status().code();
      if (code == Status::Code::kAuth || code == Status::Code::kProtocol) {
        // Our direction of the channel still works: tell the sender why we stop.
        Done d;
        d.payload = consumer_->payload_bytes();
        d.error = ("the control channel from the sender failed: " + m.status().ToString()).substr(0, kMaxReasonLen);
        opt_.reporter->State("failed", d.error);
        SendReports();
        (void)control_->Send(FrameType::kDone, d.ToJson(), 2);
        return Finish(m.status().Wrap("the control channel from the sender"), false);
      }
      return Finish(m.status().Wrap("lost contact with the sender" +
                                    std::string(done_sent_ ? "" : " before the end of the stream")),
                    false);
    }
    last_heard = Clock::now();
    Status bad;  // a message the protocol does not allow from the sender ends this node's session
    switch (m->type) {
      case FrameType::kChain:
        bad = HandleChain(m->body);
        break;
      case FrameType::kProgress: {  // the sender's heartbeat, with how far back to keep data
        auto p = SenderProgress::Decode(m->body);
        if (!p.ok()) {
          bad = p.status();
        } else if (!p->has_keep) {
          ring_->MoveCursor(keep_cursor_, UINT64_MAX / 2);  // nobody downstream needs our window
          keep_ = 0;
        } else if (p->keep > keep_) {  // only forward: older bytes may be gone already
          keep_ = p->keep;
          ring_->MoveCursor(keep_cursor_, keep_);
        }
        break;
      }
      case FrameType::kPrepare:
        bad = StartPrepare(m->body);
        break;
      case FrameType::kExec:
        StartExec(m->body);
        break;
      case FrameType::kBye: {
        auto bye = Bye::Decode(m->body);
        if (!bye.ok()) {
          bad = bye.status();
          break;
        }
        if (opt_.on_bye) opt_.on_bye(m->body);
        SendReports();  // the last log lines reach the server's log of this node
        if (!consumer_->finished())
          return Finish(Status::Refused("the sender ended the session before this node finished"), false);
        if (!done_sent_) SendDone(consumer_->result());
        if (!bye->ok && consumer_->result().status.ok())
          return Finish(Status::Refused("the sender did not count this node OK: " +
                                        (bye->error.empty() ? std::string("no reason given") : bye->error)),
                        false);
        return Finish(Status::Ok(), bye->ok);
      }
      case FrameType::kAbort: {
        auto a = chain::Abort::Decode(m->body);
        return Finish(Status::Refused("dropped by the sender: " + (a.ok() ? a->reason : "no reason given")), false);
      }
      default:
        bad = Status::Protocol(std::string("the sender may not send ") + TypeName(m->type));
    }
    if (!bad.ok()) {
      Done d;
      d.payload = consumer_->payload_bytes();
      d.error = bad.ToString().substr(0, kMaxReasonLen);
      (void)control_->Send(FrameType::kDone, d.ToJson(), 5);
      return Finish(bad.Wrap("a message from the sender"), false);
    }
  }
}

}  // namespace

int RunReceive(const ReceiveOptions& options) {
  InitCrypto();
  ReceiveOptions o = options;
  if (!o.reporter) o.reporter = std::make_shared<NodeReporter>();
  auto forward = ForwardLogs(o.reporter);
  int rc = 2;
  {
    Receiver r(o);
    try {
      rc = r.Run();
    } catch (const std::exception& e) {
      LogError("internal error: {}", e.what());
    }
  }
  RemoveLogSink(forward);  // a later session of this process reports to its own reporter
  return rc;
}

}  // namespace ka::chain
