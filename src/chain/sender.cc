#include "chain/sender.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "chain/auth.h"
#include "chain/discovery.h"
#include "chain/handshake.h"
#include "chain/producer.h"
#include "chain/relay.h"
#include "chain/report.h"
#include "chain/ring.h"
#include "chain/source.h"
#include "util/log.h"
#include "util/units.h"

namespace ka::chain {

namespace {

enum class NodeState { kJoined, kStreaming, kDone, kFailed };

struct Node {
  uint64_t id = 0;
  std::string name;
  Endpoint endpoint;  // control peer address
  uint16_t data_port = 0;
  std::unique_ptr<ControlChannel> channel;
  std::thread reader;
  NodeState state = NodeState::kJoined;
  int position = 0;
  uint64_t received = 0;  // wire bytes
  uint64_t payload = 0;   // verified payload bytes
  std::string digest;
  std::string error;
  double seconds = 0;
};

size_t RoundUp(uint64_t v, uint64_t m) { return static_cast<size_t>((v + m - 1) / m * m); }

class Sender {
 public:
  explicit Sender(const SendOptions& o)
      : opt_(o), session_id_(RandomU64()), ring_(RoundUp(std::max<uint64_t>(o.buffer, 4ull << 20),
                                                        kHeaderSize + o.chunk)),
        relay_(ring_, /*use_splice=*/false) {}
  int Run();

 private:
  Status Setup();
  void AcceptLoop();
  void Handshake(UniqueFd fd, Endpoint peer);
  void ReadLoop(std::shared_ptr<Node> n);
  bool WaitForStart();
  void StartChain();
  bool AllFinished();
  void PrintProgress(double elapsed);
  void MarkFailed(Node& n, const std::string& why);
  SessionReport BuildReport(double seconds);
  void Shutdown();

  SendOptions opt_;
  uint64_t session_id_;
  Secret secret_;
  Ring ring_;
  Relay relay_;
  std::unique_ptr<Source> source_;
  std::unique_ptr<Producer> producer_;
  UniqueFd listener_;
  DiscoveryResponder discovery_;
  std::thread accept_thread_, producer_thread_, relay_thread_;
  std::list<std::thread> handshakes_;
  std::atomic<bool> stop_{false};
  int head_hold_ = -1;  // keeps the stream start until the first node connects

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Node>> nodes_;
  uint64_t next_id_ = 1;
  int readers_active_ = 0;
  bool started_ = false;
  uint64_t chain_head_id_ = 0;
  Clock::time_point t_start_;
};

Status Sender::Setup() {
  if (!opt_.secret_file.empty()) {
    auto s = Secret::Load(opt_.secret_file);
    if (!s.ok()) return s.status();
    secret_ = s.value();
  } else {
    LogWarn("*** NO --secret-file: this session is NOT authenticated. Any host on the network can join it "
            "or pose as a node. Use --secret-file on the sender and every receiver. ***");
  }
  if (!opt_.exec.empty()) {
    auto s = OpenExecSource(opt_.exec);
    if (!s.ok()) return s.status();
    source_ = std::move(s).value();
  } else {
    auto s = OpenPathSource(opt_.source_path);
    if (!s.ok()) return s.status();
    source_ = std::move(s).value();
  }
  auto l = ListenTcp(opt_.bind, opt_.port);
  if (!l.ok()) return l.status();
  listener_ = std::move(l).value();
  KA_RETURN_IF_ERROR(discovery_.Start(opt_.session, opt_.discovery_port, opt_.port));
  head_hold_ = ring_.AddCursor(0);
  auto mode = ParseDigestMode(opt_.digest);
  if (!mode.ok()) return mode.status();
  producer_ = std::make_unique<Producer>(ring_, session_id_, *source_, opt_.chunk, mode.value());
  producer_thread_ = std::thread([this] { producer_->Run(); });
  relay_thread_ = std::thread([this] { relay_.Run(); });
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return Status::Ok();
}

void Sender::AcceptLoop() {
  while (!stop_) {
    Endpoint peer;
    auto c = AcceptTcp(listener_.get(), DeadlineIn(0.2), &peer);
    if (!c.ok()) continue;
    std::lock_guard l(mu_);
    handshakes_.emplace_back([this, fd = std::make_shared<UniqueFd>(std::move(c).value()), peer]() mutable {
      Handshake(std::move(*fd), peer);
    });
  }
}

void Sender::Handshake(UniqueFd fd, Endpoint peer) {
  std::string role;
  auto check = [&](const Json& hello) -> Status {
    auto r = StringField(hello, "role", 16);
    if (!r.ok()) return r.status();
    role = r.value();
    if (role == "control") {
      std::lock_guard l(mu_);
      if (started_) return Status::Refused("session '" + opt_.session + "' has already started (late joiners are not accepted)");
      if (static_cast<int>(nodes_.size()) >= opt_.nodes)
        return Status::Refused("session '" + opt_.session + "' is full (" + std::to_string(opt_.nodes) + " nodes)");
      if (!U64Field(hello, "data_port").ok()) return Status::Protocol("HELLO without data_port");
      return Status::Ok();
    }
    if (role == "data") {
      auto sid = U64Field(hello, "session_id");
      auto nid = U64Field(hello, "node_id");
      auto pos = U64Field(hello, "position");
      if (!sid.ok() || !nid.ok() || !pos.ok()) return Status::Protocol("data HELLO needs session_id, node_id and position");
      if (sid.value() != session_id_) return Status::Refused("data connection for another session id");
      std::lock_guard l(mu_);
      if (!started_ || nid.value() != chain_head_id_)
        return Status::Refused("node " + std::to_string(nid.value()) + " is not the head of the chain");
      if (!ring_.Holds(pos.value()))
        return Status::Refused("position " + std::to_string(pos.value()) + " is no longer held by the sender");
      return Status::Ok();
    }
    return Status::Protocol("unknown role '" + role + "'");
  };
  auto hello = ServerHandshake(fd.get(), secret_, opt_.session, check, 10);
  if (!hello.ok()) {
    LogWarn("refused connection from {}: {}", peer.ToString(), hello.status().ToString());
    return;
  }
  if (role == "data") {
    uint64_t pos = (*hello)["position"].get<uint64_t>();
    if (!SendMessage(fd.get(), FrameType::kWelcome, session_id_, Json{{"position", pos}}, DeadlineIn(5)).ok()) return;
    std::string name;
    {
      std::lock_guard l(mu_);
      for (auto& n : nodes_)
        if (n->id == chain_head_id_) name = n->name;
    }
    relay_.OfferChild(std::move(fd), pos, name);
    std::lock_guard l(mu_);
    if (head_hold_ >= 0) {
      ring_.RemoveCursor(head_hold_);
      head_hold_ = -1;
    }
    return;
  }
  auto node = std::make_shared<Node>();
  node->endpoint = peer;
  node->data_port = static_cast<uint16_t>((*hello)["data_port"].get<uint64_t>());
  auto name = StringField(*hello, "name", 64);
  node->name = name.ok() && !name.value().empty() ? name.value() : peer.Host();
  {
    std::lock_guard l(mu_);
    if (started_ || static_cast<int>(nodes_.size()) >= opt_.nodes) {
      SendRefuse(fd.get(), started_ ? "session has already started" : "session is full");
      return;
    }
    for (auto& n : nodes_)
      if (n->name == node->name) node->name += "@" + peer.Host();
    node->id = next_id_++;
    Json welcome{{"session_id", session_id_}, {"node_id", node->id}, {"name", node->name},
                 {"chunk_size", opt_.chunk}, {"nodes", opt_.nodes}, {"digest", opt_.digest}};
    if (!SendMessage(fd.get(), FrameType::kWelcome, session_id_, welcome, DeadlineIn(5)).ok()) return;
    node->channel = std::make_unique<ControlChannel>(std::move(fd));
    nodes_.push_back(node);
    LogInfo("node {} ({}) joined: {}/{}", node->name, peer.Host(), nodes_.size(), opt_.nodes);
    ++readers_active_;
    node->reader = std::thread([this, node] { ReadLoop(node); });
  }
  cv_.notify_all();
}

void Sender::MarkFailed(Node& n, const std::string& why) {
  if (n.state == NodeState::kDone || n.state == NodeState::kFailed) return;
  n.state = NodeState::kFailed;
  n.error = why;
  n.seconds = std::chrono::duration<double>(Clock::now() - t_start_).count();
  LogError("node {} FAILED at {}: {}", n.name, FormatBytes(n.payload), why);
}

void Sender::ReadLoop(std::shared_ptr<Node> n) {
  while (!stop_) {
    auto m = n->channel->Read(DeadlineIn(3600));
    std::lock_guard l(mu_);
    if (!m.ok()) {
      if (!stop_) {
        MarkFailed(*n, "lost contact with the node: " + m.status().ToString());
        if (!started_) LogWarn("node {} left before the start", n->name);
      }
      --readers_active_;
      cv_.notify_all();
      return;
    }
    switch (m->type) {
      case FrameType::kProgress:
        if (auto r = U64Field(m->body, "received"); r.ok()) n->received = r.value();
        if (auto p = U64Field(m->body, "payload"); p.ok()) n->payload = p.value();
        break;
      case FrameType::kDone: {
        auto status = StringField(m->body, "status", 16);
        if (auto p = U64Field(m->body, "payload"); p.ok()) n->payload = p.value();
        if (auto d = StringField(m->body, "digest", 128); d.ok()) n->digest = d.value();
        if (status.ok() && status.value() == "ok") {
          std::string want = producer_->digest_hex();
          if (n->digest != want) {
            MarkFailed(*n, "digest mismatch: node has " + n->digest + ", sender has " + want);
          } else if (n->state != NodeState::kFailed) {
            n->state = NodeState::kDone;
            n->seconds = std::chrono::duration<double>(Clock::now() - t_start_).count();
            LogInfo("node {} done: {} verified", n->name, FormatBytes(n->payload));
          }
        } else {
          auto err = StringField(m->body, "error", 4096);
          MarkFailed(*n, err.ok() ? err.value() : "failed without a reason");
        }
        break;
      }
      default:
        LogWarn("unexpected {} from node {}", TypeName(m->type), n->name);
    }
    cv_.notify_all();
  }
}

bool Sender::WaitForStart() {
  auto t0 = Clock::now();
  auto last_print = t0;
  std::unique_lock l(mu_);
  for (;;) {
    // Drop nodes that left before the start.
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

void Sender::StartChain() {
  std::lock_guard l(mu_);
  started_ = true;
  // Order by address (numerically), then port: neighbours on a subnet stay adjacent.
  std::sort(nodes_.begin(), nodes_.end(), [](const auto& a, const auto& b) {
    uint32_t x = ntohl(a->endpoint.addr.sin_addr.s_addr), y = ntohl(b->endpoint.addr.sin_addr.s_addr);
    if (x != y) return x < y;
    return a->data_port < b->data_port;
  });
  Json order = Json::array();
  order.push_back({{"id", 0}, {"name", "sender"}, {"host", ""}, {"port", opt_.port}});
  for (size_t i = 0; i < nodes_.size(); ++i) {
    auto& n = nodes_[i];
    n->position = static_cast<int>(i + 1);
    n->state = NodeState::kStreaming;
    order.push_back({{"id", n->id}, {"name", n->name}, {"host", n->endpoint.Host()}, {"port", n->data_port}});
  }
  chain_head_id_ = nodes_.front()->id;
  t_start_ = Clock::now();
  Json chain{{"epoch", 1}, {"order", order}};
  std::string line;
  for (auto& n : nodes_) line += " -> " + n->name;
  LogInfo("chain: sender{}", line);
  for (auto& n : nodes_) {
    Status s = n->channel->Send(FrameType::kChain, session_id_, chain);
    if (!s.ok()) MarkFailed(*n, "could not send the chain: " + s.ToString());
  }
}

bool Sender::AllFinished() {
  for (auto& n : nodes_)
    if (n->state != NodeState::kDone && n->state != NodeState::kFailed) return false;
  return true;
}

void Sender::PrintProgress(double elapsed) {
  uint64_t sent = relay_.child_position();
  uint64_t min_payload = UINT64_MAX;
  int active = 0, done = 0, failed = 0;
  for (auto& n : nodes_) {
    if (n->state == NodeState::kStreaming) {
      ++active;
      min_payload = std::min(min_payload, n->payload);
    }
    done += n->state == NodeState::kDone;
    failed += n->state == NodeState::kFailed;
  }
  if (min_payload == UINT64_MAX) min_payload = 0;
  double rate = elapsed > 0 ? static_cast<double>(sent) / 1048576.0 / elapsed : 0;
  auto total = source_->size();
  std::string of = total ? " of " + FormatBytes(*total) : "";
  LogInfo("{:6.1f}s  sent {}{} ({:.1f} MiB/s)  slowest node at {}  nodes: {} streaming, {} done, {} failed",
          elapsed, FormatBytes(producer_->bytes() < sent ? producer_->bytes() : sent), of, rate,
          FormatBytes(min_payload), active, done, failed);
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
  if (!producer_->status().ok()) r.error = "source failed: " + producer_->status().ToString();
  std::lock_guard l(mu_);
  for (auto& n : nodes_) {
    NodeReport nr;
    nr.id = n->id;
    nr.name = n->name;
    nr.address = n->endpoint.Host();
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
    for (auto& n : nodes_) {
      (void)n->channel->Send(FrameType::kBye, session_id_, Json::object(), 2);
    }
  }
  // Give nodes a moment to close their side, then tear everything down.
  {
    std::unique_lock l(mu_);
    cv_.wait_for(l, std::chrono::seconds(2), [&] { return readers_active_ == 0; });
  }
  stop_ = true;
  discovery_.Stop();
  relay_.Stop();
  ring_.Close();
  {
    std::lock_guard l(mu_);
    for (auto& n : nodes_) n->channel->Shutdown();
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  if (relay_thread_.joinable()) relay_thread_.join();
  if (producer_thread_.joinable()) producer_thread_.join();
  std::list<std::thread> hs;
  {
    std::lock_guard l(mu_);
    hs.swap(handshakes_);
  }
  for (auto& t : hs) t.join();
  for (auto& n : nodes_)
    if (n->reader.joinable()) n->reader.join();
}

int Sender::Run() {
  if (Status s = Setup(); !s.ok()) {
    LogError("{}", s.ToString());
    stop_ = true;
    ring_.Close();
    relay_.Stop();
    if (accept_thread_.joinable()) accept_thread_.join();
    if (relay_thread_.joinable()) relay_thread_.join();
    if (producer_thread_.joinable()) producer_thread_.join();
    return 2;
  }
  LogInfo("session '{}' (id {:016x}): streaming {} to {} node(s); listening on TCP {} and UDP {}", opt_.session,
          session_id_, source_->Describe(), opt_.nodes, opt_.port, opt_.discovery_port);
  if (!WaitForStart()) {
    LogError("no receivers joined within {:.0f} s; giving up", opt_.join_timeout);
    Shutdown();
    return 2;
  }
  StartChain();
  auto last_print = Clock::now();
  {
    std::unique_lock l(mu_);
    while (!AllFinished()) {
      cv_.wait_for(l, std::chrono::milliseconds(200));
      if (Clock::now() - last_print >= std::chrono::duration<double>(opt_.progress_interval)) {
        PrintProgress(std::chrono::duration<double>(Clock::now() - t_start_).count());
        last_print = Clock::now();
      }
    }
  }
  double seconds = 0;
  {
    std::lock_guard l(mu_);
    for (auto& n : nodes_) seconds = std::max(seconds, n->seconds);
  }
  Shutdown();
  SessionReport report = BuildReport(seconds);
  std::fputs(report.SummaryText().c_str(), stdout);
  std::fflush(stdout);
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
