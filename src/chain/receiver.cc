#include "chain/receiver.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "chain/auth.h"
#include "chain/consumer.h"
#include "chain/digest.h"
#include "chain/discovery.h"
#include "chain/handshake.h"
#include "chain/output.h"
#include "chain/relay.h"
#include "chain/ring.h"
#include "util/log.h"
#include "util/units.h"

namespace ka::chain {

namespace {

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
  Status Join();
  Status HandleChain(const Json& body);
  Status ConnectUpstream(const Peer& parent);
  void AcceptLoop();
  void AcceptChild(UniqueFd fd, Endpoint peer);
  void SendProgress();
  void SendDone();
  int Finish(const Status& session_status);

  ReceiveOptions opt_;
  Secret secret_;
  Endpoint sender_;
  UniqueFd listener_;
  std::unique_ptr<ControlChannel> control_;
  uint64_t session_id_ = 0;
  uint64_t node_id_ = 0;
  std::string name_;
  uint32_t chunk_ = 0;
  DigestMode digest_ = DigestMode::kFull;

  std::unique_ptr<Output> output_;
  std::unique_ptr<Ring> ring_;
  std::unique_ptr<Relay> relay_;
  std::unique_ptr<Consumer> consumer_;
  std::thread relay_thread_, consumer_thread_, accept_thread_;
  std::list<std::thread> child_handshakes_;
  std::atomic<bool> stop_{false};
  bool done_sent_ = false;

  std::mutex mu_;
  uint64_t expected_child_ = 0;  // node id allowed to connect to us
  int child_hold_ = -1;          // cursor keeping data for a child that has not connected yet
  bool relay_started_ = false;
};

Status Receiver::Join() {
  if (!opt_.secret_file.empty()) {
    auto s = Secret::Load(opt_.secret_file);
    if (!s.ok()) return s.status();
    secret_ = s.value();
  } else {
    LogWarn("*** NO --secret-file: this node will accept data from ANY sender of session '{}' and cannot prove "
            "who it is. Use --secret-file on the sender and every receiver. ***",
            opt_.session);
  }
  // Validate the output before joining: a bad path should fail now, not after the stream.
  auto out = opt_.exec.empty() ? OpenPathOutput(opt_.output) : OpenExecOutput(opt_.exec);
  if (!out.ok()) return out.status();
  output_ = std::move(out).value();

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
    if (!e.ok()) return e.status();
    sender_ = e.value();
  }
  auto l = ListenTcp("", opt_.data_port);
  if (!l.ok()) return l.status().Wrap("opening the data port for the next node");
  listener_ = std::move(l).value();

  auto c = ConnectTcp(sender_, DeadlineIn(10));
  if (!c.ok()) return c.status().Wrap("connecting to the sender");
  std::string name = opt_.name;
  if (name.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    name = host;
  }
  ClientHello hello{opt_.session, "control",
                    Json{{"name", name}, {"data_port", LocalPort(listener_.get())}, {"buffer", opt_.buffer}}};
  auto w = ClientHandshake(c.value().get(), secret_, hello, 10);
  if (!w.ok()) return w.status();
  auto sid = U64Field(*w, "session_id");
  auto nid = U64Field(*w, "node_id");
  auto chunk = U64Field(*w, "chunk_size");
  if (!sid.ok() || !nid.ok() || !chunk.ok() || chunk.value() == 0 || chunk.value() > kMaxDataPayload)
    return Status::Protocol("malformed WELCOME from the sender");
  session_id_ = sid.value();
  node_id_ = nid.value();
  chunk_ = static_cast<uint32_t>(chunk.value());
  auto digest_name = StringField(*w, "digest", 16);
  auto digest = ParseDigestMode(digest_name.ok() ? digest_name.value() : "full");
  if (!digest.ok()) return digest.status().Wrap("WELCOME from the sender");
  digest_ = digest.value();
  auto given = StringField(*w, "name", 128);
  name_ = given.ok() ? given.value() : name;
  control_ = std::make_unique<ControlChannel>(std::move(c).value());

  uint64_t frame = kHeaderSize + chunk_;
  uint64_t cap = std::max<uint64_t>(opt_.buffer, 4 * frame);
  cap = (cap + frame - 1) / frame * frame;
  ring_ = std::make_unique<Ring>(static_cast<size_t>(cap));
  relay_ = std::make_unique<Relay>(*ring_, opt_.splice);
  consumer_ = std::make_unique<Consumer>(*ring_, session_id_, digest_, output_.get(),
                                         [this] { return relay_->upstream_ended(); });
  consumer_thread_ = std::thread([this] { consumer_->Run(); });
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  LogInfo("joined session '{}' at {} as {} (node id {}); waiting for the chain", opt_.session, sender_.ToString(),
          name_, node_id_);
  return Status::Ok();
}

Status Receiver::ConnectUpstream(const Peer& parent) {
  Endpoint to;
  if (parent.id == 0) {
    to = sender_;
  } else {
    auto e = ResolveEndpoint(parent.host + ":" + std::to_string(parent.port), parent.port);
    if (!e.ok()) return e.status();
    to = e.value();
  }
  Status last;
  for (int attempt = 0; attempt < 20; ++attempt) {  // the parent may still be setting up
    auto c = ConnectTcp(to, DeadlineIn(5));
    if (c.ok()) {
      ClientHello hello{opt_.session, "data",
                        Json{{"session_id", session_id_}, {"node_id", node_id_}, {"name", name_}, {"position", ring_->head()}}};
      auto w = ClientHandshake(c.value().get(), secret_, hello, 10);
      if (w.ok()) {
        LogInfo("receiving from {} ({}) at offset {}", parent.name, to.ToString(), ring_->head());
        relay_->SetUpstream(std::move(c).value());
        return Status::Ok();
      }
      last = w.status();
      if (last.code() == Status::Code::kAuth) break;
    } else {
      last = c.status();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return last.Wrap("connecting to upstream " + parent.name);
}

Status Receiver::HandleChain(const Json& body) {
  auto it = body.find("order");
  if (it == body.end() || !it->is_array() || it->size() < 2) return Status::Protocol("CHAIN without an order list");
  std::vector<Peer> order;
  for (const auto& e : *it) {
    if (!e.is_object()) return Status::Protocol("CHAIN order entry is not an object");
    Peer p;
    auto id = U64Field(e, "id");
    auto port = U64Field(e, "port");
    auto host = StringField(e, "host", 64);
    auto name = StringField(e, "name", 128);
    if (!id.ok() || !port.ok() || !host.ok() || !name.ok() || port.value() > 65535)
      return Status::Protocol("malformed CHAIN order entry");
    p.id = id.value();
    p.port = static_cast<uint16_t>(port.value());
    p.host = host.value();
    p.name = name.value();
    order.push_back(p);
  }
  size_t me = order.size();
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i].id == node_id_) me = i;
  if (me == order.size()) return Status::Protocol("this node is not in the CHAIN");
  {
    std::lock_guard l(mu_);
    expected_child_ = me + 1 < order.size() ? order[me + 1].id : 0;
    if (expected_child_ != 0 && child_hold_ < 0 && !relay_->has_child()) child_hold_ = ring_->AddCursor(ring_->head());
  }
  LogInfo("chain position {} of {}: upstream {}, downstream {}", me, order.size() - 1, order[me - 1].name,
          me + 1 < order.size() ? order[me + 1].name : std::string("none (end of chain)"));
  KA_RETURN_IF_ERROR(ConnectUpstream(order[me - 1]));
  if (!relay_started_) {
    relay_started_ = true;
    relay_thread_ = std::thread([this] { relay_->Run(); });
  }
  return Status::Ok();
}

void Receiver::AcceptLoop() {
  while (!stop_) {
    Endpoint peer;
    auto c = AcceptTcp(listener_.get(), DeadlineIn(0.2), &peer);
    if (!c.ok()) continue;
    std::lock_guard l(mu_);
    child_handshakes_.emplace_back(
        [this, fd = std::make_shared<UniqueFd>(std::move(c).value()), peer] { AcceptChild(std::move(*fd), peer); });
  }
}

void Receiver::AcceptChild(UniqueFd fd, Endpoint peer) {
  auto check = [&](const Json& hello) -> Status {
    auto role = StringField(hello, "role", 16);
    if (!role.ok() || role.value() != "data") return Status::Refused("only data connections are accepted here");
    auto sid = U64Field(hello, "session_id");
    auto nid = U64Field(hello, "node_id");
    auto pos = U64Field(hello, "position");
    if (!sid.ok() || !nid.ok() || !pos.ok()) return Status::Protocol("data HELLO needs session_id, node_id and position");
    if (sid.value() != session_id_) return Status::Refused("data connection for another session id");
    std::lock_guard l(mu_);
    if (nid.value() != expected_child_)
      return Status::Refused("node " + std::to_string(nid.value()) + " is not our downstream neighbour");
    if (!ring_->Holds(pos.value()) && pos.value() > ring_->head())
      return Status::Refused("position " + std::to_string(pos.value()) + " is ahead of us");
    if (!ring_->Holds(pos.value()))
      return Status::Refused("position " + std::to_string(pos.value()) + " is no longer in our replay window");
    return Status::Ok();
  };
  auto hello = ServerHandshake(fd.get(), secret_, opt_.session, check, 10);
  if (!hello.ok()) {
    LogWarn("refused data connection from {}: {}", peer.ToString(), hello.status().ToString());
    return;
  }
  uint64_t pos = (*hello)["position"].get<uint64_t>();
  if (!SendMessage(fd.get(), FrameType::kWelcome, session_id_, Json{{"position", pos}}, DeadlineIn(5)).ok()) return;
  auto child_name = StringField(*hello, "name", 128);
  relay_->OfferChild(std::move(fd), pos, child_name.ok() ? child_name.value() : peer.Host());
  std::lock_guard l(mu_);
  if (child_hold_ >= 0) {
    ring_->RemoveCursor(child_hold_);
    child_hold_ = -1;
  }
}

void Receiver::SendProgress() {
  Json p{{"received", ring_->head()}, {"payload", consumer_->payload_bytes()}, {"position", consumer_->position()}};
  (void)control_->Send(FrameType::kProgress, session_id_, p, 5);
}

void Receiver::SendDone() {
  ConsumeResult r = consumer_->result();
  Json d{{"status", r.status.ok() ? "ok" : "failed"}, {"payload", r.bytes}, {"digest", r.digest_hex}};
  if (!r.status.ok()) d["error"] = r.status.ToString();
  (void)control_->Send(FrameType::kDone, session_id_, d, 5);
  done_sent_ = true;
  if (r.status.ok())
    LogInfo("stream complete: {} verified, digest ({}) {}", FormatBytes(r.bytes), DigestModeName(digest_), r.digest_hex);
  else LogError("stream FAILED: {}", r.status.ToString());
}

int Receiver::Finish(const Status& session_status) {
  stop_ = true;
  if (relay_) relay_->Stop();
  if (ring_) ring_->Close();
  if (control_) control_->Shutdown();
  if (consumer_thread_.joinable()) consumer_thread_.join();
  if (relay_thread_.joinable()) relay_thread_.join();
  if (accept_thread_.joinable()) accept_thread_.join();
  std::list<std::thread> hs;
  {
    std::lock_guard l(mu_);
    hs.swap(child_handshakes_);
  }
  for (auto& t : hs) t.join();
  if (!consumer_ && output_) (void)output_->Finish(false);
  if (!session_status.ok()) {
    LogError("{}", session_status.ToString());
    return 1;
  }
  ConsumeResult r = consumer_->result();
  return r.status.ok() ? 0 : 1;
}

int Receiver::Run() {
  if (Status s = Join(); !s.ok()) return Finish(s);
  auto last_progress = Clock::now();
  for (;;) {
    if (consumer_->finished() && !done_sent_) SendDone();
    if (Clock::now() - last_progress >= std::chrono::seconds(1)) {
      SendProgress();
      last_progress = Clock::now();
    }
    if (!WaitReadable(control_->fd(), 200)) continue;
    auto m = control_->Read(DeadlineIn(10));
    if (!m.ok()) {
      return Finish(m.status().Wrap("lost contact with the sender" +
                                    std::string(done_sent_ ? "" : " before the end of the stream")));
    }
    switch (m->type) {
      case FrameType::kChain:
        if (Status s = HandleChain(m->body); !s.ok()) {
          Json d{{"status", "failed"}, {"payload", consumer_->payload_bytes()}, {"error", s.ToString()}};
          (void)control_->Send(FrameType::kDone, session_id_, d, 5);
          done_sent_ = true;
          return Finish(s);
        }
        break;
      case FrameType::kBye:
        if (!consumer_->finished()) {
          return Finish(Status::Refused("the sender ended the session before this node finished"));
        }
        if (!done_sent_) SendDone();
        return Finish(Status::Ok());
      case FrameType::kAbort: {
        auto reason = StringField(m->body, "reason", 4096);
        return Finish(Status::Refused("the sender aborted the session: " + (reason.ok() ? reason.value() : "")));
      }
      default:
        LogWarn("ignoring unexpected {} from the sender", TypeName(m->type));
    }
  }
}

}  // namespace

int RunReceive(const ReceiveOptions& options) {
  InitCrypto();
  Receiver r(options);
  return r.Run();
}

}  // namespace ka::chain
