// SenderImpl: incoming connections. Each is authenticated, then joins as a
// node (control), links the data stream (data: the chain's head, or a direct
// branch), or is handed to the status handler (status). See sender_impl.h.
#include "chain/sender_impl.h"
#include "util/log.h"
#include "util/net.h"
#include "util/units.h"

namespace ka::chain {

void SenderImpl::Accept(UniqueFd fd, const Endpoint& peer) {
  {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return set_up_ || stop_; });
    if (stop_) return;
  }
  (void)handshakes_.Start(std::move(fd), peer, [this](UniqueFd f, Endpoint p, HandshakePool::Slot& slot) {
    try {
      Handshake(std::move(f), p, slot);
    } catch (const std::exception& e) {
      LogError("connection from {} failed: {}", p.ToString(), e.what());
    }
  });
}

void SenderImpl::LogRefusal(const Endpoint& peer, const Status& why) {
  // A flood of strangers must not drown the log: a few lines per kind, then a count.
  std::string kind = why.code() == Status::Code::kAuth ? "auth" : why.code() == Status::Code::kTimeout ? "timeout"
                                                                                                          : "other";
  uint64_t more = 0;
  if (refusals_.Allow(kind, &more))
    LogWarn("refused connection from {}: {}{}", peer.ToString(), why.ToString(),
            more ? fmt::format(" ({} more refusals like it were not logged)", more) : std::string());
}

Status SenderImpl::CheckHello(const Hello& hello) {
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
  bool head = IsChainHead(hello.node_id);
  bool held = head && ring_.Holds(hello.position);
  if (!held && !source_->rereadable())
    return Status::Refused(hello.branch ? "the source is a stream: it cannot be replayed from position " +
                                              std::to_string(hello.position)
                                        : "position " + std::to_string(hello.position) +
                                              " is no longer in the sender's replay window and the source is a "
                                              "stream");
  if (!hello.branch && !head && !source_->rereadable())
    return Status::Refused("node " + std::to_string(hello.node_id) + " is not the head of a chain");
  return Status::Ok();
}

void SenderImpl::Handshake(UniqueFd fd, Endpoint peer, HandshakePool::Slot& slot) {
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
  Status s = CheckHello(hello);
  if (s.ok() && hello.role == "status" && !status_handler) s = Status::Refused("this sender serves no status clients");
  if (!s.ok()) {
    SendRefuse(*r->channel, s.message());
    LogWarn("refused {} connection from {}: {}", hello.role, peer.ToString(), s.message());
    return;
  }
  if (hello.role == "data") return AcceptData(std::move(r->channel), hello);
  if (hello.role == "status") return status_handler(std::move(r->channel), peer, stop_);
  AcceptControl(std::move(r->channel), hello, peer);
}

void SenderImpl::AcceptData(std::unique_ptr<SecureChannel> ch, const Hello& hello) {
  uint64_t pos = hello.position;
  uint64_t nid = hello.node_id;
  std::string name;
  bool head, is_head_id;
  Relay* relay = nullptr;
  int chain = 0;
  {
    std::lock_guard l(mu_);
    for (auto& n : nodes_)
      if (n->id == nid) name = n->name;
    is_head_id = IsChainHead(nid);
    head = is_head_id && ring_.Holds(pos) && !hello.branch;
    chain = ChainOf(nid);
    if (chain >= 0 && static_cast<size_t>(chain) < relays_.size()) relay = relays_[chain].get();
  }
  if (!ch->Send(FrameType::kWelcome, DataWelcome{pos}.ToJson(), 5).ok()) return;
  UniqueFd fd = ch->Release();
  // We are its upstream neighbour: we watch its link beats, as a node watches its child's.
  auto watcher = std::make_shared<LinkWatcher>(nid, name, std::move(ch), opt_.freeze_detect,
                                               std::max(opt_.freeze_detect, opt_.node_timeout));
  if (!head && is_head_id && relay) relay->ReleaseHold();  // the head is fed from the source instead
  if (head && relay) {
    {
      std::lock_guard l(mu_);
      link_watchers_[nid] = watcher;
    }
    relay->OfferChild(std::move(fd), pos, name, watcher);
    std::lock_guard l(mu_);
    ReleaseHeadHold(static_cast<size_t>(chain));
    return;
  }
  {
    std::lock_guard l(mu_);
    link_watchers_[nid] = watcher;
  }
  if (Status s =
          branches_.Start(std::move(fd), pos, name, opt_.source_path, producer_crypto_, producer_.get(), watcher);
      !s.ok()) {
    LogError("cannot feed {} directly from position {}: {}", name, pos, s.ToString());
    std::lock_guard l(mu_);
    link_watchers_.erase(nid);
    return;
  }
  std::lock_guard l(mu_);
  for (auto& n : nodes_)
    if (n->id == nid) n->branch_fed = true;
}

void SenderImpl::AcceptControl(std::unique_ptr<SecureChannel> ch, const Hello& hello, Endpoint peer) {
  auto node = std::make_shared<Node>();
  node->endpoint = peer;
  node->data_port = hello.data_port;
  node->name = !hello.name.empty() ? hello.name : peer.Host();
  node->mac = hello.mac;
  node->link_mbps = hello.link_mbps;
  uint32_t uplink = LinkMbpsOfAddress(LocalAddress(ch->fd()));  // our side of this node's connection
  std::unique_lock l(mu_);
  uplink_mbps_ = std::max(uplink_mbps_, uplink);
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
  w.beat = control_beat_;
  w.timeout = opt_.node_timeout;
  w.detect = opt_.freeze_detect;
  if (!ch->Send(FrameType::kWelcome, w.ToJson(), 5).ok()) return;
  if (data_key_.cipher == crypto::Cipher::kAes256Gcm && !hello.aes)
    LogWarn("node {} has no AES instructions: it opens AES-256-GCM frames slowly (--cipher chacha20-poly1305 suits "
            "such nodes)", node->name);
  node->channel = std::move(ch);
  // The heartbeat clock starts now that it has joined, whatever the handshake took.
  // Its heartbeats come every control_beat_ s: give four of them, however short --node-timeout.
  node->liveness = std::make_unique<FreezeDetector>(std::max(kMinFreezeSeconds, 4 * control_beat_),
                                                    std::max(opt_.node_timeout, 4 * control_beat_));
  nodes_.push_back(node);
  observer_.NodeJoined(node->name, peer.Host());
  ++readers_active_;
  node->reader = std::thread([this, node] { ReadLoop(node); });
  if (started_) {  // a late joiner goes to the tail of the chain and catches up
    node->late = true;
    node->state = NodeState::kStreaming;
    node->position = static_cast<int>(nodes_.size());
    node->chain = ChainForLateJoiner(node.get());
    LogInfo("late joiner {} ({}) added at the tail of chain {}", node->name, peer.Host(), node->chain + 1);
    relink_needed_ = true;
  } else {
    LogInfo("node {} ({}) joined: {}/{}", node->name, peer.Host(), nodes_.size(), opt_.nodes);
  }
  cv_.notify_all();
}

}  // namespace ka::chain
