#include "chain/receiver.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "chain/auth.h"
#include "chain/consumer.h"
#include "chain/digest.h"
#include "chain/discovery.h"
#include "chain/handshake.h"
#include "chain/handshake_pool.h"
#include "chain/output.h"
#include "chain/relay.h"
#include "chain/remote_exec.h"
#include "chain/ring.h"
#include "util/log.h"
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
  Status Join();
  Status HandleChain(const Json& body);
  void LinkLoop();
  Status Link(const Peer& parent, bool branch);
  void AcceptChild(UniqueFd fd, Endpoint peer);
  void SendProgress();
  void SendDone(const ConsumeResult& r);
  void StartPrepare(const Json& body);
  void SendReports();
  void StartExec(const Json& body);
  int Finish(const Status& session_status, bool commit);

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
  std::thread relay_thread_, consumer_thread_, accept_thread_, link_thread_, prepare_thread_;
  std::atomic<bool> prepare_done_{false};
  bool prepare_started_ = false, ready_sent_ = false;
  Result<std::string> prepare_result_{std::string()};
  std::mutex exec_mu_;
  std::vector<Json> exec_results_;
  std::list<std::thread> exec_threads_;
  HandshakePool child_handshakes_;
  std::atomic<bool> stop_{false};
  bool done_sent_ = false;

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

Status Receiver::Join() {
  auto secret = LoadSecretOrWarn(opt_.secret_file, "this node will accept data from ANY sender of session '" +
                                                        opt_.session + "' and cannot prove who it is");
  if (!secret.ok()) return secret.status();
  secret_ = secret.value();
  // Validate the output before joining: a bad path should fail now, not after the stream.
  auto out = opt_.make_output ? opt_.make_output()
              : opt_.exec.empty() ? OpenPathOutput(opt_.output)
                                  : OpenExecOutput(opt_.exec);
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
  std::string mac = !opt_.mac.empty() ? opt_.mac : MacOfAddress(LocalAddress(c.value().get()));
  Json hello_body{{"name", name}, {"data_port", LocalPort(listener_.get())}, {"buffer", opt_.buffer}};
  if (!mac.empty()) hello_body["mac"] = mac;
  ClientHello hello{opt_.session, "control", hello_body};
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
  keep_cursor_ = ring_->AddCursor(0);
  // The consumer waits for data until the ring is closed: losing the
  // upstream is not the end, the sender re-links us.
  consumer_ = std::make_unique<Consumer>(*ring_, session_id_, digest_, output_.get(), nullptr);
  consumer_thread_ = std::thread([this] { consumer_->Run(); });
  relay_thread_ = std::thread([this] { relay_->Run(); });
  accept_thread_ = std::thread([this] {
    child_handshakes_.AcceptLoop(listener_.get(), stop_,
                                 [this](UniqueFd fd, Endpoint peer) { AcceptChild(std::move(fd), peer); });
  });
  link_thread_ = std::thread([this] { LinkLoop(); });
  LogInfo("joined session '{}' at {} as {} (node id {}); waiting for the chain", opt_.session, sender_.ToString(),
          name_, node_id_);
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
  Json extra{{"session_id", session_id_}, {"node_id", node_id_}, {"name", name_}, {"position", pos}};
  if (branch) extra["branch"] = true;
  auto w = ClientHandshake(c.value().get(), secret_, ClientHello{opt_.session, "data", extra}, 5);
  {
    std::lock_guard l(mu_);
    linking_fd_ = -1;
  }
  if (!w.ok()) return w.status();
  LogInfo("receiving from {} ({}) from stream position {}", branch ? "the sender (direct branch)" : parent.name,
          to.ToString(), pos);
  relay_->SetUpstream(std::move(c).value());
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
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Status Receiver::HandleChain(const Json& body) {
  auto epoch = U64Field(body, "epoch");
  auto it = body.find("order");
  if (!epoch.ok() || it == body.end() || !it->is_array() || it->size() < 2)
    return Status::Protocol("CHAIN without an epoch and an order list");
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
  std::lock_guard l(mu_);
  if (epoch.value() <= epoch_) return Status::Ok();  // stale
  epoch_ = epoch.value();
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
    if (pos.value() > ring_->head()) return Status::Refused("position " + std::to_string(pos.value()) + " is ahead of us");
    if (!ring_->Holds(pos.value()))
      return Status::Refused("position " + std::to_string(pos.value()) + " is no longer in our replay window (it holds " +
                             std::to_string(ring_->tail()) + ".." + std::to_string(ring_->head()) + ")");
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
  Json p{{"received", ring_->head()},
         {"payload", consumer_->payload_bytes()},
         {"position", consumer_->position()},
         {"upstream", !relay_->upstream_ended()}};
  (void)control_->Send(FrameType::kProgress, session_id_, p, 2);
}

void Receiver::SendDone(const ConsumeResult& r) {
  Json d{{"status", r.status.ok() ? "ok" : "failed"}, {"payload", r.bytes}, {"digest", r.digest_hex}};
  if (!r.status.ok()) d["error"] = r.status.ToString();
  opt_.reporter->State(r.status.ok() ? "done" : "failed", r.status.ok() ? std::string() : r.status.ToString());
  SendReports();
  (void)control_->Send(FrameType::kDone, session_id_, d, 5);
  done_sent_ = true;
  if (r.status.ok())
    LogInfo("stream complete: {} verified, digest ({}) {}; relaying until the session ends", FormatBytes(r.bytes),
            DigestModeName(digest_), r.digest_hex);
  else
    LogError("stream FAILED: {}", r.status.ToString());
}

int Receiver::Finish(const Status& session_status, bool commit) {
  stop_ = true;
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
  if (!session_status.ok()) {
    LogError("{}", session_status.ToString());
    if (output_ && !opt_.output.empty() && opt_.output != "-")
      LogError("output left incomplete (not at {})", opt_.output);
    return 1;
  }
  ConsumeResult r = consumer_->result();
  if (!r.status.ok()) return 1;
  if (commit) {
    if (Status c = output_->Commit(); !c.ok()) {
      LogError("{}", c.ToString());
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
    (void)control_->Send(FrameType::kStatus, session_id_, Json{{"state", p.state}, {"detail", p.detail}}, 2);
  Json batch = Json::array();
  size_t bytes = 0;
  for (auto& line : p.lines) {
    if (line.size() > 4000) line = line.substr(0, 4000) + "...";
    bytes += line.size() + 8;
    batch.push_back(std::move(line));
    if (bytes > 40000 || batch.size() >= 500) {
      (void)control_->Send(FrameType::kLog, session_id_, Json{{"lines", batch}}, 2);
      batch = Json::array();
      bytes = 0;
    }
  }
  if (!batch.empty()) (void)control_->Send(FrameType::kLog, session_id_, Json{{"lines", batch}}, 2);
  std::vector<Json> results;
  {
    std::lock_guard l(exec_mu_);
    results.swap(exec_results_);
  }
  for (const auto& r : results) (void)control_->Send(FrameType::kExecResult, session_id_, r, 5);
}

// A command from the server (`ka exec`): run on its own thread, answered with EXEC_RESULT.
void Receiver::StartExec(const Json& body) {
  auto id = U64Field(body, "id");
  auto command = StringField(body, "command", 8192);
  std::string by = StringField(body, "by", 256).value_or("?");
  if (!id.ok() || !command.ok()) {
    LogWarn("ignoring a malformed EXEC from the server");
    return;
  }
  if (!opt_.allow_exec) {
    LogWarn("refused a remote command from the server (asked by {}): this node runs with --no-remote-commands: {}", by,
            command.value());
    std::lock_guard l(exec_mu_);
    exec_results_.push_back({{"id", id.value()},
                             {"exit", -1},
                             {"output", "remote commands are disabled on this node (--no-remote-commands)"}});
    return;
  }
  LogWarn("running a remote command from the server (asked by {}): {}", by, command.value());
  exec_threads_.emplace_back([this, id = id.value(), cmd = command.value()] {
    ExecOutcome r = RunRemoteCommand(cmd, 60, 48 * 1024);
    LogInfo("remote command exited with status {}{}", r.exit_code, r.timed_out ? " (timed out)" : "");
    std::lock_guard l(exec_mu_);
    exec_results_.push_back({{"id", id}, {"exit", r.exit_code}, {"output", r.output}});
  });
}

void Receiver::StartPrepare(const Json& body) {
  if (prepare_started_) {
    LogWarn("ignoring a second PREPARE from the sender");
    return;
  }
  prepare_started_ = true;
  if (!opt_.prepare) {
    prepare_result_ = Status::Refused("this node cannot prepare for a clone (it runs `ka receive`, not `ka join`)");
    prepare_done_ = true;
    return;
  }
  std::string local = LocalAddress(control_->fd());
  prepare_thread_ = std::thread([this, body, local] {
    prepare_result_ = opt_.prepare(body, local);
    prepare_done_ = true;
  });
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
        Json d{{"status", "failed"},
               {"payload", consumer_->payload_bytes()},
               {"error", link_failure_.ToString()},
               {"unlinked", true}};
        (void)control_->Send(FrameType::kDone, session_id_, d, 5);
        done_sent_ = true;
      }
    }
    if (prepare_done_ && !ready_sent_) {
      ready_sent_ = true;
      Json r{{"ok", prepare_result_.ok()}};
      if (prepare_result_.ok()) r["detail"] = prepare_result_.value();
      else r["error"] = prepare_result_.status().ToString();
      if (!prepare_result_.ok()) {
        opt_.reporter->State("failed", prepare_result_.status().ToString());
        LogError("cannot take part: {}", prepare_result_.status().ToString());
        SendReports();  // the server keeps this node's log, up to the reason
      }
      (void)control_->Send(FrameType::kReady, session_id_, r, 5);
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
    if (!WaitReadable(control_->fd(), 100)) continue;
    auto m = control_->Read(DeadlineIn(10));
    if (!m.ok()) {
      return Finish(m.status().Wrap("lost contact with the sender" +
                                    std::string(done_sent_ ? "" : " before the end of the stream")),
                    false);
    }
    last_heard = Clock::now();
    switch (m->type) {
      case FrameType::kChain:
        if (Status s = HandleChain(m->body); !s.ok()) {
          Json d{{"status", "failed"}, {"payload", consumer_->payload_bytes()}, {"error", s.ToString()}};
          (void)control_->Send(FrameType::kDone, session_id_, d, 5);
          return Finish(s, false);
        }
        break;
      case FrameType::kProgress: {  // the sender's heartbeat, with how far back to keep data
        auto keep = U64Field(m->body, "keep");
        if (!keep.ok()) {
          ring_->MoveCursor(keep_cursor_, UINT64_MAX / 2);  // nobody downstream needs our window
          keep_ = 0;
        } else if (keep.value() > keep_) {  // only forward: older bytes may be gone already
          keep_ = keep.value();
          ring_->MoveCursor(keep_cursor_, keep_);
        }
        break;
      }
      case FrameType::kPrepare:
        StartPrepare(m->body);
        break;
      case FrameType::kExec:
        StartExec(m->body);
        break;
      case FrameType::kBye: {
        bool ok = BoolField(m->body, "ok", false);
        if (opt_.on_bye) opt_.on_bye(m->body);
        SendReports();  // the last log lines reach the server's log of this node
        if (!consumer_->finished())
          return Finish(Status::Refused("the sender ended the session before this node finished"), false);
        if (!done_sent_) SendDone(consumer_->result());
        if (!ok && consumer_->result().status.ok())
          return Finish(Status::Refused("the sender did not count this node OK: " +
                                        StringField(m->body, "error", 4096).value_or("no reason given")),
                        false);
        return Finish(Status::Ok(), ok);
      }
      case FrameType::kAbort: {
        auto reason = StringField(m->body, "reason", 4096);
        return Finish(Status::Refused("dropped by the sender: " + (reason.ok() ? reason.value() : "no reason given")),
                      false);
      }
      default:
        LogWarn("ignoring unexpected {} from the sender", TypeName(m->type));
    }
  }
}

}  // namespace

int RunReceive(const ReceiveOptions& options) {
  InitCrypto();
  ReceiveOptions o = options;
  if (!o.reporter) o.reporter = std::make_shared<NodeReporter>();
  ForwardLogs(o.reporter);
  Receiver r(o);
  return r.Run();
}

}  // namespace ka::chain
