#include "chain/sender.h"

#include <arpa/inet.h>
#include <fcntl.h>
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
#include "chain/handshake.h"
#include "chain/handshake_pool.h"
#include "chain/producer.h"
#include "chain/relay.h"
#include "chain/report.h"
#include "chain/ring.h"
#include "chain/source.h"
#include "control/progress_view.h"
#include "control/web_server.h"
#include <fmt/ranges.h>
#include <spdlog/sinks/basic_file_sink.h>

#include "util/log.h"
#include "util/units.h"

namespace ka::chain {

namespace {

constexpr double kHeartbeatSeconds = 0.25;
constexpr size_t kBranchRing = 32ull << 20;

enum class NodeState { kJoined, kPreparing, kReady, kStreaming, kDone, kFailed };

struct Node {
  uint64_t id = 0;
  std::string name;
  std::string mac;    // as the node reported it (may be empty)
  Endpoint endpoint;  // control peer address
  uint16_t data_port = 0;
  std::unique_ptr<ControlChannel> channel;
  std::thread reader;
  NodeState state = NodeState::kJoined;
  int position = 0;
  uint64_t received = 0;  // stream position
  uint64_t payload = 0;   // verified payload bytes
  std::string digest;
  std::string error;
  double seconds = 0;
  bool late = false;
  bool in_chain = true;  // connected and relaying (a locally failed node still relays)
  bool branch_fed = false;  // fed from the source directly: never needs a neighbour's window
  Clock::time_point last_heard = Clock::now();
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
  int Run();

 private:
  Status Setup();
  void Handshake(UniqueFd fd, Endpoint peer);
  Status CheckHello(const Json& hello, std::string* role);
  void AcceptData(UniqueFd fd, const Json& hello);
  void AcceptControl(UniqueFd fd, const Json& hello, Endpoint peer);
  void ServeStatus(UniqueFd fd, Endpoint peer);
  Status StartWeb();
  Json StatusRequest(const Json& req, const Endpoint& peer);
  Json Exec(const std::string& node, const std::string& command, const Endpoint& peer);
  Status StartBranch(UniqueFd fd, uint64_t pos, const std::string& name);
  void ReadLoop(std::shared_ptr<Node> n);
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

  SendOptions opt_;
  uint64_t session_id_;
  uint64_t frame_;
  Secret secret_;
  Ring ring_;
  Relay relay_;
  std::unique_ptr<Source> source_;
  std::unique_ptr<Producer> producer_;
  UniqueFd listener_;
  DiscoveryResponder discovery_;
  std::thread accept_thread_, producer_thread_, relay_thread_, heartbeat_thread_;
  HandshakePool handshakes_;
  std::atomic<bool> stop_{false};
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
  std::map<uint64_t, Json> exec_results_;  // guarded by mu_, signalled on cv_
};

Status Sender::Setup() {
  auto secret = LoadSecretOrWarn(opt_.secret_file,
                                 "this session is NOT authenticated. Any host on the network can join it or pose "
                                 "as a node");
  if (!secret.ok()) return secret.status();
  secret_ = secret.value();
  auto mode = ParseDigestMode(opt_.digest);
  if (!mode.ok()) return mode.status();
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
  std::string dir = opt_.session_dir.empty() ? control::DefaultSessionDir(opt_.session)
                    : opt_.session_dir == "none"  ? std::string()
                                                  : opt_.session_dir;
  state_ = std::make_unique<control::SessionState>(opt_.session, dir);
  state_->SetInfo(fmt::format("{:016x}", session_id_), source_->Describe(), source_->size());
  state_->SetExecEnabled(opt_.allow_exec);
  if (!state_->dir().empty()) {
    try {  // the server's own log beside the nodes'
      auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(state_->dir() + "/server.log");
      file->set_pattern("%H:%M:%S.%e %-5l %v");
      spdlog::default_logger()->sinks().push_back(file);
    } catch (const spdlog::spdlog_ex& e) {
      LogWarn("cannot write {}/server.log: {}", state_->dir(), e.what());
    }
    LogInfo("session directory: {} (server.log, logs/NODE.log, report.json)", state_->dir());
  }
  if (opt_.allow_exec && !secret_.enabled())
    return Status::Invalid("--allow-exec needs --secret-file: remote commands are never accepted unauthenticated");
  if (opt_.attach) detach_ = opt_.attach(*state_);
  if (!opt_.web.empty()) KA_RETURN_IF_ERROR(StartWeb());
  auto l = ListenTcp(opt_.bind, opt_.port);
  if (!l.ok()) return l.status();
  listener_ = std::move(l).value();
  KA_RETURN_IF_ERROR(discovery_.Start(opt_.session, opt_.discovery_port, opt_.port));
  head_hold_ = ring_.AddCursor(0);
  keep_cursor_ = ring_.AddCursor(0);
  producer_ = std::make_unique<Producer>(ring_, session_id_, *source_, opt_.chunk, mode.value());
  producer_thread_ = std::thread([this] { producer_->Run(); });
  relay_thread_ = std::thread([this] { relay_.Run(); });
  accept_thread_ = std::thread([this] {
    handshakes_.AcceptLoop(listener_.get(), stop_, [this](UniqueFd fd, Endpoint peer) { Handshake(std::move(fd), peer); });
  });
  heartbeat_thread_ = std::thread([this] { HeartbeatLoop(); });
  return Status::Ok();
}

Status Sender::CheckHello(const Json& hello, std::string* role) {
  auto r = StringField(hello, "role", 16);
  if (!r.ok()) return r.status();
  *role = r.value();
  if (*role == "control") {
    if (!U64Field(hello, "data_port").ok()) return Status::Protocol("HELLO without data_port");
    std::lock_guard l(mu_);
    if (started_ && !source_->rereadable())
      return Status::Refused("session '" + opt_.session +
                             "' has already started and its source is a stream, which cannot be replayed for a late "
                             "joiner");
    if (!started_ && static_cast<int>(nodes_.size()) >= opt_.nodes)
      return Status::Refused("session '" + opt_.session + "' is full (" + std::to_string(opt_.nodes) + " nodes)");
    return Status::Ok();
  }
  if (*role == "status") return Status::Ok();  // `ka status` / `ka exec`: read-only unless exec is allowed
  if (*role == "data") {
    auto sid = U64Field(hello, "session_id");
    auto nid = U64Field(hello, "node_id");
    auto pos = U64Field(hello, "position");
    if (!sid.ok() || !nid.ok() || !pos.ok()) return Status::Protocol("data HELLO needs session_id, node_id and position");
    if (sid.value() != session_id_) return Status::Refused("data connection for another session id");
    std::lock_guard l(mu_);
    auto it = std::find_if(nodes_.begin(), nodes_.end(), [&](auto& n) { return n->id == nid.value(); });
    if (!started_ || it == nodes_.end() || !Live(**it))
      return Status::Refused("node " + std::to_string(nid.value()) + " is not a live member of this session");
    bool branch = BoolField(hello, "branch", false);
    bool held = nid.value() == chain_head_id_ && ring_.Holds(pos.value());
    if (!held && !source_->rereadable())
      return Status::Refused(branch ? "the source is a stream: it cannot be replayed from position " +
                                          std::to_string(pos.value())
                                    : "position " + std::to_string(pos.value()) +
                                          " is no longer in the sender's replay window and the source is a stream");
    if (!branch && nid.value() != chain_head_id_ && !source_->rereadable())
      return Status::Refused("node " + std::to_string(nid.value()) + " is not the head of the chain");
    return Status::Ok();
  }
  return Status::Protocol("unknown role '" + *role + "'");
}

void Sender::Handshake(UniqueFd fd, Endpoint peer) {
  std::string role;
  auto hello = ServerHandshake(fd.get(), secret_, opt_.session,
                               [&](const Json& h) { return CheckHello(h, &role); }, 10);
  if (!hello.ok()) {
    LogWarn("refused connection from {}: {}", peer.ToString(), hello.status().ToString());
    return;
  }
  if (role == "data") return AcceptData(std::move(fd), *hello);
  if (role == "status") return ServeStatus(std::move(fd), peer);
  AcceptControl(std::move(fd), *hello, peer);
}

void Sender::AcceptData(UniqueFd fd, const Json& hello) {
  uint64_t pos = hello["position"].get<uint64_t>();
  uint64_t nid = hello["node_id"].get<uint64_t>();
  std::string name;
  bool head, is_head_id;
  {
    std::lock_guard l(mu_);
    for (auto& n : nodes_)
      if (n->id == nid) name = n->name;
    is_head_id = nid == chain_head_id_;
    head = is_head_id && ring_.Holds(pos) && !BoolField(hello, "branch", false);
  }
  if (!SendMessage(fd.get(), FrameType::kWelcome, session_id_, Json{{"position", pos}}, DeadlineIn(5)).ok()) return;
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
  b.producer = std::make_unique<Producer>(*b.ring, session_id_, *b.source, opt_.chunk,
                                          ParseDigestMode(opt_.digest).value());
  b.producer->ReplayFrom(first_frame, producer_.get());
  b.relay = std::make_unique<Relay>(*b.ring, false);
  b.relay->OfferChild(std::move(fd), pos, name);
  b.producer_thread = std::thread([p = b.producer.get()] { p->Run(); });
  b.relay_thread = std::thread([r = b.relay.get()] { r->Run(); });
  LogInfo("feeding {} directly from the source, from stream position {}", name, pos);
  return Status::Ok();
}

void Sender::AcceptControl(UniqueFd fd, const Json& hello, Endpoint peer) {
  auto node = std::make_shared<Node>();
  node->endpoint = peer;
  node->data_port = static_cast<uint16_t>(hello["data_port"].get<uint64_t>());
  auto name = StringField(hello, "name", 64);
  node->name = name.ok() && !name.value().empty() ? name.value() : peer.Host();
  if (auto mac = StringField(hello, "mac", 32); mac.ok()) node->mac = mac.value();
  std::unique_lock l(mu_);
  if (!started_ && static_cast<int>(nodes_.size()) >= opt_.nodes) {
    SendRefuse(fd.get(), "session is full");
    return;
  }
  for (auto& n : nodes_)
    if (n->name == node->name) node->name += "@" + peer.Host();
  node->id = next_id_++;
  Json welcome{{"session_id", session_id_}, {"node_id", node->id}, {"name", node->name},
               {"chunk_size", opt_.chunk}, {"nodes", opt_.nodes},  {"digest", opt_.digest}};
  if (!SendMessage(fd.get(), FrameType::kWelcome, session_id_, welcome, DeadlineIn(5)).ok()) return;
  node->channel = std::make_unique<ControlChannel>(std::move(fd));
  node->last_heard = Clock::now();
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
  std::string token;
  if (!opt_.web_token_file.empty()) {
    std::ifstream in(opt_.web_token_file);
    std::getline(in, token);
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  }
  if (token.empty()) {
    token = control::NewToken();
    if (!opt_.web_token_file.empty()) {
      int fd = ::open(opt_.web_token_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd < 0 || ::write(fd, (token + "\n").data(), token.size() + 1) != static_cast<ssize_t>(token.size() + 1)) {
        if (fd >= 0) ::close(fd);
        return Status::Io("--web-token-file " + opt_.web_token_file + ": cannot write the new token");
      }
      ::close(fd);
    }
  }
  auto w = control::WebServer::Start(opt_.web, token, *state_);
  if (!w.ok()) return w.status().Wrap("--web");
  web_ = std::move(w).value();
  LogInfo("dashboard (read-only): {}", web_->Url());
  return Status::Ok();
}

// A `ka status` / `ka exec` client: REQUEST messages answered with RESPONSE
// until it closes. Read-only, except exec when the session allows it.
void Sender::ServeStatus(UniqueFd fd, Endpoint peer) {
  LogDebug("status client {} connected", peer.ToString());
  if (!SendMessage(fd.get(), FrameType::kWelcome, session_id_, Json{{"session_id", fmt::format("{:016x}", session_id_)}},
                   DeadlineIn(5))
           .ok())
    return;
  while (!stop_) {
    if (!WaitReadable(fd.get(), 200)) continue;
    auto m = ReadMessage(fd.get(), DeadlineIn(30));
    if (!m.ok()) return;
    Json resp = m->type == FrameType::kRequest ? StatusRequest(m->body, peer)
                                                : Json{{"ok", false}, {"error", "expected a REQUEST"}};
    if (!SendMessage(fd.get(), FrameType::kResponse, session_id_, resp, DeadlineIn(10)).ok()) return;
  }
}

Json Sender::StatusRequest(const Json& req, const Endpoint& peer) {
  std::string op = StringField(req, "op", 32).value_or("");
  if (op == "snapshot") return {{"ok", true}, {"snapshot", state_->Snapshot()}};
  if (op == "log") {
    std::string node = StringField(req, "node", 128).value_or("");
    uint64_t from = U64Field(req, "from").value_or(0), next = 0;
    auto lines = state_->Log(node, from, 2000, &next);
    if (!lines.ok()) return {{"ok", false}, {"error", lines.status().message()}};
    return {{"ok", true}, {"lines", lines.value()}, {"next", next}};
  }
  if (op == "exec") {
    std::string node = StringField(req, "node", 128).value_or("");
    std::string command = StringField(req, "command", 8192).value_or("");
    if (node.empty() || command.empty()) return {{"ok", false}, {"error", "exec needs a node and a command"}};
    return Exec(node, command, peer);
  }
  return {{"ok", false}, {"error", "unknown request '" + op + "'"}};
}

Json Sender::Exec(const std::string& node, const std::string& command, const Endpoint& peer) {
  std::string who = peer.Host();
  if (!opt_.allow_exec) {
    LogWarn("REFUSED remote command from {} for {}: {} (this server was not started with --allow-exec)", who, node,
            command);
    if (state_->HasNode(node)) state_->NodeNote(node, "refused remote command from " + who + ": " + command);
    return {{"ok", false}, {"error", "remote commands are disabled on this server (start it with --allow-exec)"}};
  }
  std::unique_lock l(mu_);
  std::shared_ptr<Node> target;
  for (auto& n : nodes_)
    if (n->name == node && n->in_chain) target = n;
  if (!target) return {{"ok", false}, {"error", "no connected node named '" + node + "'"}};
  uint64_t id = next_exec_id_++;
  LogWarn("remote command from {} for {}: {}", who, node, command);
  state_->NodeNote(node, "remote command from " + who + ": " + command);
  ControlChannel* ch = target->channel.get();
  l.unlock();
  Status s = ch->Send(FrameType::kExec, session_id_, Json{{"id", id}, {"command", command}, {"by", who}}, 5);
  l.lock();
  if (!s.ok()) return {{"ok", false}, {"error", "could not reach " + node + ": " + s.ToString()}};
  bool got = cv_.wait_for(l, std::chrono::seconds(90), [&] { return exec_results_.count(id) > 0 || stop_; });
  if (!got || !exec_results_.count(id)) return {{"ok", false}, {"error", node + " did not answer within 90 s"}};
  Json r = exec_results_[id];
  exec_results_.erase(id);
  int code = r.value("exit", -1);
  state_->NodeNote(node, "remote command from " + who + " exited with status " + std::to_string(code));
  return {{"ok", code >= 0}, {"exit", code}, {"output", r.value("output", "")},
          {"error", code < 0 ? r.value("output", "refused by the node") : ""}};
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
  std::thread([ch = n.channel.get(), sid = session_id_, why] {
    (void)ch->Send(FrameType::kAbort, sid, Json{{"reason", "dropped from the chain: " + why}}, 0.5);
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
        MarkFailed(*n, "lost contact with the node: " + m.status().ToString());
        RemoveFromChain(*n);
      }
      --readers_active_;
      cv_.notify_all();
      return;
    }
    n->last_heard = Clock::now();
    switch (m->type) {
      case FrameType::kProgress:
        if (auto r = U64Field(m->body, "received"); r.ok()) n->received = r.value();
        if (auto p = U64Field(m->body, "payload"); p.ok()) n->payload = p.value();
        state_->NodeBytes(n->name, n->payload);
        break;
      case FrameType::kStatus:
        state_->NodeState(n->name, StringField(m->body, "state", 32).value_or("?"),
                          StringField(m->body, "detail", 4096).value_or(""));
        break;
      case FrameType::kLog:
        if (auto it = m->body.find("lines"); it != m->body.end() && it->is_array()) {
          std::vector<std::string> lines;
          for (const auto& x : *it)
            if (x.is_string()) lines.push_back(x.get<std::string>());
          state_->NodeLog(n->name, lines);
        }
        break;
      case FrameType::kExecResult:
        if (auto id = U64Field(m->body, "id"); id.ok()) exec_results_[id.value()] = m->body;
        break;
      case FrameType::kReady:
        if (n->state != NodeState::kPreparing) {
          LogWarn("unexpected READY from node {}", n->name);
        } else if (BoolField(m->body, "ok", false)) {
          n->state = NodeState::kReady;
          LogInfo("node {} is ready ({})", n->name, StringField(m->body, "detail", 1024).value_or("prepared"));
        } else {
          MarkFailed(*n, "could not prepare: " + StringField(m->body, "error", 8192).value_or("no reason given"));
          RemoveFromChain(*n);
        }
        break;
      case FrameType::kDone: {
        auto status = StringField(m->body, "status", 16);
        if (n->state == NodeState::kFailed && BoolField(m->body, "unlinked", false)) DropNode(*n, n->error);
        if (auto p = U64Field(m->body, "payload"); p.ok()) n->payload = p.value();
        if (auto d = StringField(m->body, "digest", 128); d.ok()) n->digest = d.value();
        if (n->state == NodeState::kFailed) break;
        if (status.ok() && status.value() == "ok") {
          std::string want = producer_->digest_hex();
          if (n->digest != want) {
            MarkFailed(*n, "digest mismatch: node has " + n->digest + ", sender has " + want);
          } else {
            n->state = NodeState::kDone;
            state_->NodeDone(n->name);
            n->seconds = std::chrono::duration<double>(Clock::now() - t_start_).count();
            LogInfo("node {} done: {} verified", n->name, FormatBytes(n->payload));
          }
        } else {
          // Failed locally but still connected: it keeps relaying, so the chain is unchanged,
          // unless it cannot get data itself ("unlinked"): then the chain goes around it.
          MarkFailed(*n, StringField(m->body, "error", 4096).value_or("failed without a reason"));
          if (BoolField(m->body, "unlinked", false)) DropNode(*n, n->error);
        }
        break;
      }
      default:
        LogWarn("unexpected {} from node {}", TypeName(m->type), n->name);
    }
    cv_.notify_all();
  }
}

// Every heartbeat also tells each member how far back it must keep data:
// to the position of the next two nodes downstream, so that if its child
// fails, the grandchild can resume from this member's window.
void Sender::HeartbeatLoop() {
  while (!stop_) {
    std::vector<std::pair<ControlChannel*, Json>> beats;
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
        Json beat{{"sent", relay_.child_position()}};
        uint64_t k = keep_after(i + 1);
        if (started_ && k != UINT64_MAX) beat["keep"] = k;
        beats.emplace_back(chain[i]->channel.get(), std::move(beat));
      }
    }
    for (auto& [ch, beat] : beats) (void)ch->Send(FrameType::kProgress, session_id_, beat, 1);
    {
      // What has gone into the chain (payload bytes, frame headers taken out), not what was read ahead into the ring.
      uint64_t pos = relay_.child_position();
      state_->SetSent(static_cast<uint64_t>(static_cast<double>(pos) * opt_.chunk / (opt_.chunk + kHeaderSize)));
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(kHeartbeatSeconds));
  }
}

void Sender::CheckTimeouts() {
  auto now = Clock::now();
  for (auto& n : nodes_) {
    if (!Live(*n)) continue;
    double silent = std::chrono::duration<double>(now - n->last_heard).count();
    if (silent > opt_.node_timeout)
      DropNode(*n, fmt::format("no heartbeat for {:.1f} s (frozen or unreachable)", silent));
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
  Json order = Json::array();
  order.push_back({{"id", 0}, {"name", "sender"}, {"host", ""}, {"port", opt_.port}});
  std::string line;
  std::vector<ControlChannel*> to;
  std::vector<std::shared_ptr<Node>> members;
  for (auto& n : nodes_) {
    if (!Live(*n)) continue;
    order.push_back({{"id", n->id}, {"name", n->name}, {"host", n->endpoint.Host()}, {"port", n->data_port}});
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
  Json chain{{"epoch", epoch_}, {"order", order}};
  lock.unlock();
  for (auto& n : members) {
    Status s = n->channel->Send(FrameType::kChain, session_id_, chain, 2);
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
    Json body = opt_.prepare;
    body["index"] = n->position;
    body["nodes"] = count;
    body["name"] = n->name;
    sends.emplace_back(n, std::move(body));
  }
  LogInfo("preparing {} node(s) before the stream", sends.size());
  state_->SetPhase("preparing");
  lock.unlock();
  std::vector<std::pair<std::shared_ptr<Node>, Status>> failed;
  for (auto& [n, body] : sends)
    if (Status s = n->channel->Send(FrameType::kPrepare, session_id_, body, 5); !s.ok()) failed.emplace_back(n, s);
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
  r.digest_mode = opt_.digest;
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
    r.nodes.push_back(nr);
  }
  return r;
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
      Json bye{{"ok", n->state == NodeState::kDone}};
      if (opt_.stagger > 0) bye["release_after"] = opt_.stagger * std::max(0, n->position - 1);
      if (n->state != NodeState::kDone) bye["error"] = n->error;
      (void)n->channel->Send(FrameType::kBye, session_id_, bye, 1);
    }
  }
  {
    std::unique_lock l(mu_);
    cv_.wait_for(l, std::chrono::seconds(2), [&] { return readers_active_ == 0; });
  }
  stop_ = true;
  discovery_.Stop();
  relay_.Stop();
  ring_.Close();
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
    stop_ = true;
    ring_.Close();
    relay_.Stop();
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
      nodes_[i]->last_heard = Clock::now();
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
    for (auto& n : nodes_)
      if (n->state == NodeState::kDone) seconds = std::max(seconds, n->seconds);
  }
  Shutdown();
  state_->SetPhase("done");
  SessionReport report = BuildReport(seconds);
  if (!opt_.prepare.is_null()) report.extra["prepare_seconds"] = prepare_seconds_;
  if (opt_.finish_report) opt_.finish_report(report);
  std::fputs(report.SummaryText().c_str(), stdout);
  std::fflush(stdout);
  state_->WriteReport(report.ToJson());
  if (detach_) detach_();
  if (!opt_.report_path.empty()) {
    std::ofstream out(opt_.report_path);
    out << report.ToJson().dump(2) << "\n";
    if (!out) LogError("could not write the report to {}", opt_.report_path);
  }
  return report.AllOk() ? 0 : 1;
}

}  // namespace

int RunSend(const SendOptions& options) {
  InitCrypto();
  Sender s(options);
  return s.Run();
}

}  // namespace ka::chain
