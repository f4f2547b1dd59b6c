#include "chain/sender.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "chain/auth.h"
#include "chain/discovery.h"
#include "chain/freeze_detector.h"
#include "chain/handshake.h"
#include "chain/handshake_pool.h"
#include "chain/messages.h"
#include "chain/producer.h"
#include "chain/relay.h"
#include "chain/report.h"
#include "chain/ring.h"
#include "chain/source.h"
#include "chain/stream_seal.h"
#include "control/progress_view.h"
#include "control/session_dir.h"
#include "control/web_token.h"
#include "control/web_server.h"
#include "crypto/key_file.h"
#include "crypto/sha256.h"
#include <fmt/ranges.h>
#include <spdlog/sinks/basic_file_sink.h>

#include "util/file.h"
#include "util/log.h"
#include "util/log_limiter.h"
#include "util/units.h"

namespace ka::chain {

namespace {

constexpr double kHeartbeatSeconds = 0.25;
constexpr size_t kBranchRing = 32ull << 20;
constexpr double kMinFreezeSeconds = 1.5;  // the quickest a silent node counts as frozen

enum class NodeState { kJoined, kPreparing, kReady, kStreaming, kDone, kFailed };

struct Node {
  uint64_t id = 0;
  std::string name;
  std::string mac;    // as the node reported it (may be empty)
  Endpoint endpoint;  // control peer address
  uint16_t data_port = 0;
  std::unique_ptr<SecureChannel> channel;
  std::thread reader;
  NodeState state = NodeState::kJoined;
  int position = 0;
  uint64_t received = 0;  // stream position
  uint64_t payload = 0;   // verified payload bytes
  std::string digest;
  std::string error;
  double seconds = 0;
  std::map<std::string, double> phases;
  bool late = false;
  bool in_chain = true;  // connected and relaying (a locally failed node still relays)
  bool branch_fed = false;  // fed from the source directly: never needs a neighbour's window
  std::unique_ptr<FreezeDetector> liveness;  // when its silence means it is frozen
};

// A node fed directly by the sender from a rereadable source, from any
// position: a late joiner, or a node whose upstream cannot resume it.
struct Branch {
  std::string node;
  std::unique_ptr<Source> source;
  std::unique_ptr<Ring> ring;
  std::unique_ptr<Producer> producer;
  std::unique_ptr<Relay> relay;
  std::thread producer_thread, relay_thread;
};

size_t RoundUp(uint64_t v, uint64_t m) { return static_cast<size_t>((v + m - 1) / m * m); }

bool Live(const Node& n) { return n.in_chain; }

class Sender {
 public:
  explicit Sender(const SendOptions& o)
      : opt_(o), session_id_(RandomU64()), frame_(kHeaderSize + o.chunk),
        ring_(RoundUp(std::max<uint64_t>(o.buffer, 4ull << 20), kHeaderSize + o.chunk)),
        relay_(ring_, /*use_splice=*/false, /*hold_seconds=*/30) {}
  ~Sender() {
    if (log_file_) RemoveLogSink(log_file_);  // a later session (ka serve: stage2, then the clone) has its own
  }
  int Run();

 private:
  Status Setup();
  Status SetupCrypto();
  void Handshake(UniqueFd fd, Endpoint peer, HandshakePool::Slot& slot);
  Status CheckHello(const Hello& hello);
  void AcceptData(std::unique_ptr<SecureChannel> ch, const Hello& hello);
  void AcceptControl(std::unique_ptr<SecureChannel> ch, const Hello& hello, Endpoint peer);
  void ServeStatus(std::unique_ptr<SecureChannel> ch, Endpoint peer);
  Status StartWeb();
  Json StatusRequest(const Request& req, const Endpoint& peer);
  Json Exec(const Request& req, const Endpoint& peer);
  Status StartBranch(UniqueFd fd, uint64_t pos, const std::string& name);
  void ReadLoop(std::shared_ptr<Node> n);
  Status HandleNodeMessage(Node& n, const Message& m);
  void HeartbeatLoop();
  bool WaitForStart();
  void SendChain(std::unique_lock<std::mutex>& lock);
  void PreparePhase(std::unique_lock<std::mutex>& lock);
  void DropNode(Node& n, const std::string& why);
  void CheckTimeouts();
  bool AllFinished();
  void MarkFailed(Node& n, const std::string& why);
  void RemoveFromChain(Node& n);
  SessionReport BuildReport(double seconds);
  void Shutdown();
  void StopThreads();
  void LogRefusal(const Endpoint& peer, const Status& why);

  SendOptions opt_;
  uint64_t session_id_;
  uint64_t frame_;
  Secret secret_;
  DataKey data_key_;
  std::unique_ptr<crypto::SigningKey> sign_key_;
  std::string prepare_text_;       // the session's prepare object as sent (what is signed)
  std::string prepare_signature_;  // hex, empty when unsigned
  std::unique_ptr<TagLog> tag_log_;
  ProducerCrypto producer_crypto_;
  Ring ring_;
  Relay relay_;
  std::unique_ptr<Source> source_;
  std::unique_ptr<Producer> producer_;
  UniqueFd listener_;
  DiscoveryResponder discovery_;
  std::thread accept_thread_, producer_thread_, relay_thread_, heartbeat_thread_;
  HandshakePool handshakes_;
  LogLimiter refusals_;
  std::atomic<bool> stop_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;  // wakes the heartbeat loop at the end
  int head_hold_ = -1;  // keeps the stream start until the first node connects
  int keep_cursor_ = -1;  // keeps what node2 may need if node1 fails
  uint64_t keep_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Node>> nodes_;  // chain order once started
  std::list<Branch> branches_;
  uint64_t next_id_ = 1;
  int readers_active_ = 0;
  bool started_ = false;
  bool relink_needed_ = false;
  bool ending_ = false;  // BYE sent: connections closing now are expected
  uint64_t epoch_ = 0;
  uint64_t chain_head_id_ = 0;
  Clock::time_point t_start_;
  double prepare_seconds_ = 0;

  std::unique_ptr<control::SessionState> state_;
  std::unique_ptr<control::WebServer> web_;  // after state_: stopped before it is destroyed
  std::function<void()> detach_;
  uint64_t next_exec_id_ = 1;
  std::map<uint64_t, ExecResult> exec_results_;  // guarded by mu_, signalled on cv_
  std::shared_ptr<spdlog::sinks::sink> log_file_;  // the session's server.log
};

void Sender::LogRefusal(const Endpoint& peer, const Status& why) {
  // A flood of strangers must not drown the log: a few lines per kind, then a count.
  std::string kind = why.code() == Status::Code::kAuth ? "auth" : why.code() == Status::Code::kTimeout ? "timeout"
                                                                                                          : "other";
  uint64_t more = 0;
  if (refusals_.Allow(kind, &more))
    LogWarn("refused connection from {}: {}{}", peer.ToString(), why.ToString(),
            more ? fmt::format(" ({} more refusals like it were not logged)", more) : std::string());
}

Status Sender::SetupCrypto() {
  if (opt_.digest != "tags" && opt_.digest != "sha256")
    return Status::Invalid("--digest " + opt_.digest + ": choose tags or sha256");
  crypto::Cipher cipher = crypto::PreferredCipher();
  if (opt_.cipher != "auto") {
    auto c = crypto::ParseCipher(opt_.cipher);
    if (!c.ok()) return c.status().Wrap("--cipher");
    cipher = c.value();
  }
  data_key_ = DataKey::Random(cipher);
  if (!opt_.sign_key.empty()) {
    auto k = crypto::LoadSigningKey(opt_.sign_key);
    if (!k.ok()) return k.status().Wrap("--sign-key");
    sign_key_ = std::make_unique<crypto::SigningKey>(k.value());
  }
  prepare_text_ = opt_.prepare.is_null() ? std::string() : opt_.prepare.dump();
  if (prepare_text_.size() > kMaxPrepareText)
    return Status::Invalid("the clone manifest is " + std::to_string(prepare_text_.size()) +
                           " bytes, over the protocol's limit of " + std::to_string(kMaxPrepareText));
  auto prepare_hash = crypto::Sha256::Of(prepare_text_);
  if (sign_key_) {
    std::string sig = crypto::Sign(*sign_key_, PrepareSignedMessage(session_id_, prepare_hash));
    prepare_signature_ = ToHex(sig.data(), sig.size());
  }
  producer_crypto_.key = data_key_;
  producer_crypto_.digest = opt_.digest == "sha256" || sign_key_;
  producer_crypto_.prepare_hash = prepare_hash;
  if (sign_key_) {
    crypto::SigningKey key = *sign_key_;
    producer_crypto_.sign = [key](std::string_view m) { return crypto::Sign(key, m); };
  }
  return Status::Ok();
}

Status Sender::Setup() {
  auto secret = LoadSecretOrWarn(opt_.secret_file,
                                 "this session is NOT authenticated. Any host on the network can join it, read the "
                                 "stream or pose as a node");
  if (!secret.ok()) return secret.status();
  secret_ = secret.value();
  KA_RETURN_IF_ERROR(SetupCrypto());
  if (opt_.open_source) {
    auto s = opt_.open_source();
    if (!s.ok()) return s.status();
    source_ = std::move(s).value();
  } else if (!opt_.exec.empty()) {
    auto s = OpenExecSource(opt_.exec);
    if (!s.ok()) return s.status();
    source_ = std::move(s).value();
  } else {
    auto s = OpenPathSource(opt_.source_path);
    if (!s.ok()) return s.status();
    source_ = std::move(s).value();
  }
  if (source_->rereadable()) {
    uint64_t frames = source_->size() ? *source_->size() / opt_.chunk + 1 : 0;
    tag_log_ = std::make_unique<TagLog>(frames);
    producer_crypto_.tag_log = tag_log_.get();
  }
  std::string dir = opt_.session_dir.empty() ? control::DefaultSessionDir(opt_.session)
                    : opt_.session_dir == "none"  ? std::string()
                                                  : opt_.session_dir;
  state_ = std::make_unique<control::SessionState>(opt_.session, dir);
  state_->SetInfo(fmt::format("{:016x}", session_id_), source_->Describe(), source_->size());
  state_->SetExecEnabled(opt_.allow_exec);
  if (!state_->dir().empty()) {
    try {  // the server's own log beside the nodes'
      spdlog::file_event_handlers private_file;  // 0600 whatever the umask: the log names nodes and commands
      private_file.after_open = [](const spdlog::filename_t&, std::FILE* f) { (void)::fchmod(::fileno(f), 0600); };
      auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(control::ServerLogPath(state_->dir()), false,
                                                                       private_file);
      file->set_pattern("%H:%M:%S.%e %-5l %v");
      log_file_ = file;
      AddLogSink(file);
    } catch (const spdlog::spdlog_ex& e) {
      LogWarn("cannot write {}/server.log: {}", state_->dir(), e.what());
    }
    LogInfo("session directory: {} (server.log, logs/NODE.log, report.json)", state_->dir());
  }
  LogInfo("data frames sealed with {}{}", crypto::CipherName(data_key_.cipher),
          sign_key_ ? "; stream and manifest signed by " + sign_key_->pub.Fingerprint() : std::string());
  if (opt_.allow_exec)
    LogInfo("remote commands (ka exec) are relayed; each node runs only those signed by an operator key it trusts");
  if (opt_.attach) detach_ = opt_.attach(*state_);
  if (!opt_.web.empty()) KA_RETURN_IF_ERROR(StartWeb());
  auto l = ListenTcp(opt_.bind, opt_.port);
  if (!l.ok()) return l.status();
  listener_ = std::move(l).value();
  KA_RETURN_IF_ERROR(discovery_.Start(opt_.session, opt_.discovery_port, opt_.port));
  head_hold_ = ring_.AddCursor(0);
  keep_cursor_ = ring_.AddCursor(0);
  producer_ = std::make_unique<Producer>(ring_, session_id_, *source_, opt_.chunk, producer_crypto_);
  producer_thread_ = std::thread([this] { producer_->Run(); });
  relay_thread_ = std::thread([this] { relay_.Run(); });
  accept_thread_ = std::thread([this] {
    handshakes_.AcceptLoop(listener_.get(), [this](UniqueFd fd, Endpoint peer, HandshakePool::Slot& slot) {
      try {
        Handshake(std::move(fd), peer, slot);
      } catch (const std::exception& e) {  // never let one peer end the session
        LogError("connection from {} failed: {}", peer.ToString(), e.what());
      }
    });
  });
  heartbeat_thread_ = std::thread([this] { HeartbeatLoop(); });
  return Status::Ok();
}

Status Sender::CheckHello(const Hello& hello) {
  if (hello.role == "control") {
    std::lock_guard l(mu_);
    if (started_ && !source_->rereadable())
      return Status::Refused("session '" + opt_.session +
                             "' has already started and its source is a stream, which cannot be replayed for a late "
                             "joiner");
    if (!started_ && static_cast<int>(nodes_.size()) >= opt_.nodes)
      return Status::Refused("session '" + opt_.session + "' is full (" + std::to_string(opt_.nodes) + " nodes)");
    return Status::Ok();
  }
  if (hello.role == "status") return Status::Ok();  // `ka status` / `ka exec`
  // role "data"
  if (hello.session_id != session_id_) return Status::Refused("data connection for another session id");
  std::lock_guard l(mu_);
  auto it = std::find_if(nodes_.begin(), nodes_.end(), [&](auto& n) { return n->id == hello.node_id; });
  if (!started_ || it == nodes_.end() || !Live(**it))
    return Status::Refused("node " + std::to_string(hello.node_id) + " is not a live member of this session");
  bool held = hello.node_id == chain_head_id_ && ring_.Holds(hello.position);
  if (!held && !source_->rereadable())
    return Status::Refused(hello.branch ? "the source is a stream: it cannot be replayed from position " +
                                              std::to_string(hello.position)
                                        : "position " + std::to_string(hello.position) +
                                              " is no longer in the sender's replay window and the source is a "
                                              "stream");
  if (!hello.branch && hello.node_id != chain_head_id_ && !source_->rereadable())
    return Status::Refused("node " + std::to_string(hello.node_id) + " is not the head of the chain");
  return Status::Ok();
}

void Sender::Handshake(UniqueFd fd, Endpoint peer, HandshakePool::Slot& slot) {
  auto r = ServerHandshake(std::move(fd), secret_, ServerLimits{});
  if (!r.ok()) return LogRefusal(peer, r.status());
  slot.Authenticated();
  const Hello& hello = r->hello;
  if (hello.session != opt_.session) {
    SendRefuse(*r->channel, "session '" + hello.session + "' is not served here (this is session '" + opt_.session +
                                "')");
    LogWarn("refused {} from {}: it asked for session '{}'", hello.role, peer.ToString(), hello.session);
    return;
  }
  if (Status s = CheckHello(hello); !s.ok()) {
    SendRefuse(*r->channel, s.message());
    LogWarn("refused {} connection from {}: {}", hello.role, peer.ToString(), s.message());
    return;
  }
  if (hello.role == "data") return AcceptData(std::move(r->channel), hello);
  if (hello.role == "status") return ServeStatus(std::move(r->channel), peer);
  AcceptControl(std::move(r->channel), hello, peer);
}

void Sender::AcceptData(std::unique_ptr<SecureChannel> ch, const Hello& hello) {
  uint64_t pos = hello.position;
  uint64_t nid = hello.node_id;
  std::string name;
  bool head, is_head_id;
  {
    std::lock_guard l(mu_);
    for (auto& n : nodes_)
      if (n->id == nid) name = n->name;
    is_head_id = nid == chain_head_id_;
    head = is_head_id && ring_.Holds(pos) && !hello.branch;
  }
  if (!ch->Send(FrameType::kWelcome, DataWelcome{pos}.ToJson(), 5).ok()) return;
  UniqueFd fd = ch->Release();
  if (!head && is_head_id) relay_.ReleaseHold();  // the head is fed from the source instead
  if (head) {
    relay_.OfferChild(std::move(fd), pos, name);
    std::lock_guard l(mu_);
    if (head_hold_ >= 0) {
      ring_.RemoveCursor(head_hold_);
      head_hold_ = -1;
    }
    return;
  }
  if (Status s = StartBranch(std::move(fd), pos, name); !s.ok()) {
    LogError("cannot feed {} directly from position {}: {}", name, pos, s.ToString());
    return;
  }
  std::lock_guard l(mu_);
  for (auto& n : nodes_)
    if (n->id == nid) n->branch_fed = true;
}

Status Sender::StartBranch(UniqueFd fd, uint64_t pos, const std::string& name) {
  auto src = OpenPathSource(opt_.source_path);
  if (!src.ok()) return src.status();
  uint64_t first_frame = pos / frame_;
  std::lock_guard l(mu_);
  Branch& b = branches_.emplace_back();
  b.node = name;
  b.source = std::move(src).value();
  b.ring = std::make_unique<Ring>(RoundUp(kBranchRing, frame_), first_frame * frame_);
  b.producer = std::make_unique<Producer>(*b.ring, session_id_, *b.source, opt_.chunk, producer_crypto_);
  b.producer->ReplayFrom(first_frame, producer_.get());
  b.relay = std::make_unique<Relay>(*b.ring, false);
  b.relay->OfferChild(std::move(fd), pos, name);
  b.producer_thread = std::thread([p = b.producer.get()] { p->Run(); });
  b.relay_thread = std::thread([r = b.relay.get()] { r->Run(); });
  LogInfo("feeding {} directly from the source, from stream position {}", name, pos);
  return Status::Ok();
}

void Sender::AcceptControl(std::unique_ptr<SecureChannel> ch, const Hello& hello, Endpoint peer) {
  auto node = std::make_shared<Node>();
  node->endpoint = peer;
  node->data_port = hello.data_port;
  node->name = !hello.name.empty() ? hello.name : peer.Host();
  node->mac = hello.mac;
  std::unique_lock l(mu_);
  if (!started_ && static_cast<int>(nodes_.size()) >= opt_.nodes) {
    SendRefuse(*ch, "session is full");
    return;
  }
  for (auto& n : nodes_)
    if (n->name == node->name) node->name += "@" + peer.Host();
  node->id = next_id_++;
  ControlWelcome w;
  w.session_id = session_id_;
  w.node_id = node->id;
  w.name = node->name;
  w.chunk_size = opt_.chunk;
  w.nodes = static_cast<uint32_t>(opt_.nodes);
  w.cipher = crypto::CipherName(data_key_.cipher);
  w.data_key = ToHex(data_key_.key.data(), data_key_.key.size());
  w.digest = producer_crypto_.digest ? "sha256" : "tags";
  if (sign_key_) w.signer = sign_key_->pub.Fingerprint();
  if (!ch->Send(FrameType::kWelcome, w.ToJson(), 5).ok()) return;
  if (data_key_.cipher == crypto::Cipher::kAes256Gcm && !hello.aes)
    LogWarn("node {} has no AES instructions: it opens AES-256-GCM frames slowly (--cipher chacha20-poly1305 suits "
            "such nodes)", node->name);
  node->channel = std::move(ch);
  // The heartbeat clock starts now that it has joined, whatever the handshake took.
  node->liveness = std::make_unique<FreezeDetector>(kMinFreezeSeconds, opt_.node_timeout);
  nodes_.push_back(node);
  state_->NodeJoined(node->name, peer.Host());
  ++readers_active_;
  node->reader = std::thread([this, node] { ReadLoop(node); });
  if (started_) {  // a late joiner goes to the tail of the chain and catches up
    node->late = true;
    node->state = NodeState::kStreaming;
    node->position = static_cast<int>(nodes_.size());
    LogInfo("late joiner {} ({}) added at the tail of the chain", node->name, peer.Host());
    relink_needed_ = true;
  } else {
    LogInfo("node {} ({}) joined: {}/{}", node->name, peer.Host(), nodes_.size(), opt_.nodes);
  }
  cv_.notify_all();
}

Status Sender::StartWeb() {
  auto token = control::LoadOrCreateWebToken(opt_.web_token_file, state_->dir());
  if (!token.ok()) return token.status().Wrap("--web-token-file");
  if (!token->warning.empty()) LogWarn("{}", token->warning);
  if (token->file.empty())
    return Status::Invalid("--web needs --web-token-file FILE (or a session directory, where the token is written): "
                           "the token never appears in a log");
  auto w = control::WebServer::Start(opt_.web, token->token, *state_);
  if (!w.ok()) return w.status().Wrap("--web");
  web_ = std::move(w).value();
  LogInfo("dashboard (read-only): {}", web_->UrlForLog(token->file));
  return Status::Ok();
}

// A `ka status` / `ka exec` client: REQUEST messages answered with RESPONSE
// until it closes. Read-only, except exec when the session relays it.
void Sender::ServeStatus(std::unique_ptr<SecureChannel> ch, Endpoint peer) {
  LogDebug("status client {} connected", peer.ToString());
  if (!ch->Send(FrameType::kWelcome, StatusWelcome{session_id_, opt_.allow_exec}.ToJson(), 5).ok()) return;
  while (!stop_) {
    if (!WaitReadable(ch->fd(), 200)) continue;
    auto m = ch->Read(DeadlineIn(30));
    if (!m.ok()) {
      if (m.status().code() == Status::Code::kAuth || m.status().code() == Status::Code::kProtocol)
        LogWarn("status client {}: {}", peer.ToString(), m.status().ToString());
      return;
    }
    Json resp;
    if (m->type != FrameType::kRequest) {
      resp = {{"ok", false}, {"error", "expected a REQUEST"}};
    } else if (auto req = Request::Decode(m->body); !req.ok()) {
      resp = {{"ok", false}, {"error", req.status().message()}};
    } else {
      resp = StatusRequest(req.value(), peer);
    }
    if (!ch->Send(FrameType::kResponse, resp, 10).ok()) return;
  }
}

Json Sender::StatusRequest(const Request& req, const Endpoint& peer) {
  if (req.op == "snapshot") return {{"ok", true}, {"snapshot", state_->Snapshot()}};
  if (req.op == "log") {
    uint64_t next = 0;
    auto lines = state_->Log(req.node, req.from, 2000, &next);
    if (!lines.ok()) return {{"ok", false}, {"error", lines.status().message()}};
    return {{"ok", true}, {"lines", lines.value()}, {"next", next}};
  }
  return Exec(req, peer);
}

Json Sender::Exec(const Request& req, const Endpoint& peer) {
  const std::string& node = req.node;
  std::string who = peer.Host();
  if (!opt_.allow_exec) {
    LogWarn("REFUSED remote command from {} for {}: {} (this server was not started with --allow-exec)", who, node,
            req.command);
    if (state_->HasNode(node)) state_->NodeNote(node, "refused remote command from " + who + ": " + req.command);
    return {{"ok", false}, {"error", "remote commands are disabled on this server (start it with --allow-exec)"}};
  }
  std::unique_lock l(mu_);
  std::shared_ptr<Node> target;
  for (auto& n : nodes_)
    if (n->name == node && n->in_chain) target = n;
  if (!target) return {{"ok", false}, {"error", "no connected node named '" + node + "'"}};
  uint64_t id = next_exec_id_++;
  LogWarn("remote command from {} for {}: {}", who, node, req.command);
  state_->NodeNote(node, "remote command from " + who + ": " + req.command);
  SecureChannel* ch = target->channel.get();
  l.unlock();
  Status s = ch->Send(FrameType::kExec, chain::Exec{id, req.command, who, req.nonce, req.signature}.ToJson(), 5);
  l.lock();
  if (!s.ok()) return {{"ok", false}, {"error", "could not reach " + node + ": " + s.ToString()}};
  bool got = cv_.wait_for(l, std::chrono::seconds(90), [&] { return exec_results_.count(id) > 0 || stop_; });
  if (!got || !exec_results_.count(id)) return {{"ok", false}, {"error", node + " did not answer within 90 s"}};
  ExecResult r = exec_results_[id];
  exec_results_.erase(id);
  state_->NodeNote(node, "remote command from " + who + " exited with status " + std::to_string(r.exit));
  return {{"ok", r.exit >= 0},
          {"exit", r.exit},
          {"output", r.output},
          {"error", r.exit < 0 ? (r.output.empty() ? std::string("refused by the node") : r.output) : ""}};
}

void Sender::MarkFailed(Node& n, const std::string& why) {
  if (n.state == NodeState::kFailed) return;
  n.state = NodeState::kFailed;
  n.error = why;
  n.seconds = std::chrono::duration<double>(Clock::now() - t_start_).count();
  state_->NodeFailed(n.name, why);
  if (started_) LogError("node {} FAILED at {}: {}", n.name, FormatBytes(n.payload), why);
}

void Sender::RemoveFromChain(Node& n) {
  if (!n.in_chain) return;
  n.in_chain = false;
  if (started_) relink_needed_ = true;
}

void Sender::DropNode(Node& n, const std::string& why) {
  MarkFailed(n, why);
  RemoveFromChain(n);
  // Tell it (it reads this when it wakes up), then cut it off.
  std::thread([ch = n.channel.get(), why] {
    (void)ch->Send(FrameType::kAbort, chain::Abort{"dropped from the chain: " + why}.ToJson(), 0.5);
    ch->Shutdown();
  }).detach();
}

void Sender::ReadLoop(std::shared_ptr<Node> n) {
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
Status Sender::HandleNodeMessage(Node& n, const Message& m) {
  switch (m.type) {
    case FrameType::kProgress: {
      auto p = NodeProgress::Decode(m.body);
      if (!p.ok()) return p.status();
      n.received = p->received;
      n.payload = p->payload;
      state_->NodeBytes(n.name, n.payload);
      return Status::Ok();
    }
    case FrameType::kStatus: {
      auto s = StatusMsg::Decode(m.body);
      if (!s.ok()) return s.status();
      state_->NodeState(n.name, s->state, s->detail);
      return Status::Ok();
    }
    case FrameType::kLog: {
      auto lg = LogMsg::Decode(m.body);
      if (!lg.ok()) return lg.status();
      state_->NodeLog(n.name, lg->lines);
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
    case FrameType::kDone: {
      auto d = Done::Decode(m.body);
      if (!d.ok()) return d.status();
      if (n.state == NodeState::kFailed && d->unlinked) DropNode(n, n.error);
      n.payload = d->payload;
      n.digest = d->digest;
      n.phases = d->phases;
      if (n.state == NodeState::kFailed) return Status::Ok();
      if (d->ok) {
        std::string want = producer_->digest_hex();
        if (want.empty() || n.digest != want) {
          MarkFailed(n, "digest mismatch: node has " + n.digest + ", sender has " + want);
        } else {
          n.state = NodeState::kDone;
          state_->NodeDone(n.name);
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
    default:
      return Status::Protocol(std::string("a node may not send ") + TypeName(m.type));
  }
}

// Every heartbeat also tells each member how far back it must keep data:
// to the position of the next two nodes downstream, so that if its child
// fails, the grandchild can resume from this member's window.
void Sender::HeartbeatLoop() {
  while (!stop_) {
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
    {
      // What has gone into the chain (payload bytes, frame headers taken out), not what was read ahead into the ring.
      uint64_t pos = relay_.child_position();
      state_->SetSent(static_cast<uint64_t>(static_cast<double>(pos) * opt_.chunk / (opt_.chunk + kHeaderSize)));
    }
    std::unique_lock l(stop_mu_);
    stop_cv_.wait_for(l, std::chrono::duration<double>(kHeartbeatSeconds), [&] { return stop_.load(); });
  }
}

void Sender::CheckTimeouts() {
  auto now = Clock::now();
  for (auto& n : nodes_) {
    if (!Live(*n)) continue;
    if (n->liveness->Frozen(now))
      DropNode(*n, fmt::format("no heartbeat for {:.1f} s (frozen or unreachable; its longest gap so far {:.2f} s)",
                               n->liveness->Silence(now), n->liveness->max_gap()));
  }
}

bool Sender::WaitForStart() {
  auto t0 = Clock::now();
  auto last_print = t0;
  std::unique_lock l(mu_);
  for (;;) {
    // Nodes that left before the start free their slot.
    std::erase_if(nodes_, [](const std::shared_ptr<Node>& n) {
      if (n->state != NodeState::kFailed) return false;
      n->channel->Shutdown();
      if (n->reader.joinable()) n->reader.detach();
      return true;
    });
    int joined = static_cast<int>(nodes_.size());
    double waited = std::chrono::duration<double>(Clock::now() - t0).count();
    if (joined >= opt_.nodes) return true;
    if (opt_.start_after >= 0 && waited >= opt_.start_after && joined > 0) {
      LogWarn("starting after {:.0f} s with {} of {} nodes", waited, joined, opt_.nodes);
      return true;
    }
    if (opt_.join_timeout > 0 && waited >= opt_.join_timeout) return false;
    if (Clock::now() - last_print > std::chrono::seconds(5)) {
      LogInfo("waiting for receivers of session '{}': {}/{} joined", opt_.session, joined, opt_.nodes);
      last_print = Clock::now();
    }
    cv_.wait_for(l, std::chrono::milliseconds(200));
  }
}

// Sends the chain of live nodes (in their order) to every live node. Called
// with mu_ held; releases it while sending.
void Sender::SendChain(std::unique_lock<std::mutex>& lock) {
  ++epoch_;
  ChainMsg chain;
  chain.epoch = epoch_;
  chain.order.push_back({0, "sender", "", opt_.port});
  std::string line;
  std::vector<std::shared_ptr<Node>> members;
  for (auto& n : nodes_) {
    if (!Live(*n)) continue;
    chain.order.push_back({n->id, n->name, n->endpoint.Host(), n->data_port});
    line += " -> " + n->name;
    members.push_back(n);
  }
  uint64_t head = members.empty() ? 0 : members.front()->id;
  if (head != chain_head_id_ && chain_head_id_ != 0) relay_.KickChild();  // e.g. a frozen head still connected
  chain_head_id_ = head;
  if (members.empty()) relay_.ReleaseHold();
  LogInfo("chain (epoch {}): sender{}", epoch_, line);
  std::vector<std::string> names;
  for (auto& n : members) names.push_back(n->name);
  state_->SetChain(names);
  Json body = chain.ToJson();
  lock.unlock();
  for (auto& n : members) {
    Status s = n->channel->Send(FrameType::kChain, body, 2);
    if (!s.ok()) LogWarn("could not send the chain to {}: {}", n->name, s.ToString());
  }
  lock.lock();
}

// Sends each node the PREPARE object with its index and waits until every
// node is READY, failed or out of time. Called with mu_ held.
void Sender::PreparePhase(std::unique_lock<std::mutex>& lock) {
  auto t0 = Clock::now();
  std::vector<std::pair<std::shared_ptr<Node>, Json>> sends;
  int count = 0;
  for (auto& n : nodes_) count += Live(*n);
  for (auto& n : nodes_) {
    if (!Live(*n)) continue;
    n->state = NodeState::kPreparing;
    Prepare p;
    p.index = static_cast<uint32_t>(n->position);
    p.nodes = static_cast<uint32_t>(count);
    p.name = n->name;
    p.prepare = prepare_text_;
    p.signature = prepare_signature_;
    sends.emplace_back(n, p.ToJson());
  }
  LogInfo("preparing {} node(s) before the stream", sends.size());
  state_->SetPhase("preparing");
  lock.unlock();
  std::vector<std::pair<std::shared_ptr<Node>, Status>> failed;
  for (auto& [n, body] : sends)
    if (Status s = n->channel->Send(FrameType::kPrepare, body, 5); !s.ok()) failed.emplace_back(n, s);
  lock.lock();
  for (auto& [n, s] : failed) DropNode(*n, "could not send PREPARE: " + s.ToString());
  auto last_print = Clock::now();
  for (;;) {
    std::vector<std::string> pending;
    for (auto& n : nodes_)
      if (Live(*n) && n->state == NodeState::kPreparing) pending.push_back(n->name);
    if (pending.empty()) break;
    double waited = std::chrono::duration<double>(Clock::now() - t0).count();
    if (waited > opt_.prepare_timeout) {
      for (auto& n : nodes_)
        if (Live(*n) && n->state == NodeState::kPreparing)
          DropNode(*n, fmt::format("not ready after {:.0f} s (--prepare-timeout)", waited));
      break;
    }
    if (Clock::now() - last_print >= std::chrono::duration<double>(opt_.progress_interval)) {
      LogInfo("{:6.1f}s  waiting for {} node(s) to prepare: {}", waited, pending.size(), fmt::join(pending, " "));
      last_print = Clock::now();
    }
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    CheckTimeouts();
  }
  relink_needed_ = false;
  for (auto& n : nodes_)
    if (n->state == NodeState::kReady) n->state = NodeState::kStreaming;
  prepare_seconds_ = std::chrono::duration<double>(Clock::now() - t0).count();
  LogInfo("prepare phase done in {:.1f} s", prepare_seconds_);
}

bool Sender::AllFinished() {
  for (auto& n : nodes_)
    if (n->state != NodeState::kDone && n->state != NodeState::kFailed) return false;
  return true;
}

SessionReport Sender::BuildReport(double seconds) {
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
    nr.ok = n->state == NodeState::kDone;
    nr.bytes = n->payload;
    nr.digest = n->digest;
    nr.error = n->error;
    nr.seconds = n->seconds;
    nr.phases = n->phases;
    nr.max_heartbeat_gap = n->liveness ? n->liveness->max_gap() : 0;
    r.nodes.push_back(nr);
  }
  return r;
}

// Wakes every thread of ours for good: nothing waits for a timer to notice.
void Sender::StopThreads() {
  {
    std::lock_guard l(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  handshakes_.StopAccepting();
  discovery_.Stop();
  relay_.Stop();
  ring_.Close();
}

void Sender::Shutdown() {
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
  std::list<Branch> branches;
  {
    std::lock_guard l(mu_);
    for (auto& n : nodes_) n->channel->Shutdown();
    branches.swap(branches_);
  }
  for (auto& b : branches) {
    b.relay->Stop();
    b.ring->Close();
    b.relay_thread.join();
    b.producer_thread.join();
  }
  for (auto* t : {&accept_thread_, &relay_thread_, &producer_thread_, &heartbeat_thread_})
    if (t->joinable()) t->join();
  handshakes_.ShutdownAll();
  for (auto& n : nodes_)
    if (n->reader.joinable()) n->reader.join();
}

int Sender::Run() {
  if (Status s = Setup(); !s.ok()) {
    LogError("{}", s.ToString());
    StopThreads();
    for (auto* t : {&accept_thread_, &relay_thread_, &producer_thread_, &heartbeat_thread_})
      if (t->joinable()) t->join();
    return 2;
  }
  LogInfo("session '{}' (id {:016x}): streaming {} to {} node(s); listening on TCP {} and UDP {}", opt_.session,
          session_id_, source_->Describe(), opt_.nodes, opt_.port, opt_.discovery_port);
  if (!WaitForStart()) {
    LogError("no receivers joined within {:.0f} s; giving up", opt_.join_timeout);
    Shutdown();
    return 2;
  }
  auto last_print = Clock::now();
  {
    std::unique_lock l(mu_);
    started_ = true;
    t_start_ = Clock::now();
    // Order by address (numerically), then port: neighbours on a subnet stay adjacent.
    std::sort(nodes_.begin(), nodes_.end(), [](const auto& a, const auto& b) {
      uint32_t x = ntohl(a->endpoint.addr.sin_addr.s_addr), y = ntohl(b->endpoint.addr.sin_addr.s_addr);
      if (x != y) return x < y;
      return a->data_port < b->data_port;
    });
    for (size_t i = 0; i < nodes_.size(); ++i) {
      nodes_[i]->position = static_cast<int>(i + 1);
      nodes_[i]->state = NodeState::kStreaming;
      nodes_[i]->liveness->Heard(Clock::now());
      state_->NodePosition(nodes_[i]->name, nodes_[i]->position);
    }
    if (!opt_.prepare.is_null()) {
      PreparePhase(l);
      t_start_ = Clock::now();
    }
    SendChain(l);
    state_->SetPhase("streaming");
    // Live progress on stdout: redrawn in place on a terminal (the console log
    // then shows warnings and errors only; everything is in server.log), plain
    // changed lines otherwise.
    bool tty = control::IsTty(stdout);
    control::ProgressPrinter printer(stdout, tty, opt_.progress_interval);
    auto& console = spdlog::default_logger()->sinks().front();
    auto console_level = console->level();
    if (tty) console->set_level(spdlog::level::warn);
    while (!AllFinished()) {
      cv_.wait_for(l, std::chrono::milliseconds(100));
      CheckTimeouts();
      if (relink_needed_) {
        relink_needed_ = false;
        SendChain(l);
      }
      if (Clock::now() - last_print >= std::chrono::duration<double>(opt_.progress_interval)) {
        printer.Update(state_->Snapshot());
        last_print = Clock::now();
      }
    }
    printer.Finish(state_->Snapshot());
    console->set_level(console_level);
  }
  double seconds = 0;
  {
    std::lock_guard l(mu_);
    // The stream's time: until the last OK node had verified it (its finishing steps, such as a
    // clone's initramfs and boot loader, are reported apart, as phases).
    for (auto& n : nodes_) {
      if (n->state != NodeState::kDone) continue;
      auto it = n->phases.find("stream");
      seconds = std::max(seconds, it != n->phases.end() && it->second > 0 ? std::min(it->second, n->seconds)
                                                                           : n->seconds);
    }
  }
  double session_seconds = std::chrono::duration<double>(Clock::now() - t_start_).count() + prepare_seconds_;
  Shutdown();
  state_->SetPhase("done");
  SessionReport report = BuildReport(seconds);
  report.session_seconds = session_seconds;
  if (!opt_.prepare.is_null()) report.extra["prepare_seconds"] = prepare_seconds_;
  if (opt_.finish_report) opt_.finish_report(report);
  std::fputs(report.SummaryText().c_str(), stdout);
  std::fflush(stdout);
  state_->WriteReport(report.ToJson());
  if (detach_) detach_();
  if (!opt_.report_path.empty()) {
    Status w = WriteFileAtomic(opt_.report_path, report.ToJson().dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
    if (!w.ok()) LogError("could not write the report to {}: {}", opt_.report_path, w.ToString());
  }
  return report.AllOk() ? 0 : 1;
}

}  // namespace

int RunSend(const SendOptions& options) {
  InitCrypto();
  Sender s(options);
  try {
    return s.Run();
  } catch (const std::exception& e) {  // a bug, not a peer: say so rather than abort
    LogError("internal error: {}", e.what());
    return 2;
  }
}

}  // namespace ka::chain
