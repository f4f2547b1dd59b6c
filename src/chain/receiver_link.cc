// ReceiverImpl: our place in the chain. CHAIN messages name our parent and
// child; the link loop connects to the parent (or asks the sender for a
// direct branch) and the child is accepted on our data port. See
// receiver_impl.h.
#include <sys/socket.h>

#include "chain/receiver_impl.h"
#include "util/log.h"

namespace ka::chain {

void ReceiverImpl::Accept(UniqueFd fd, const Endpoint& peer) {
  {
    std::unique_lock l(mu_);
    link_cv_.wait(l, [&] { return joined_ || stop_; });
    if (stop_) return;
  }
  (void)child_handshakes_.Start(std::move(fd), peer, [this](UniqueFd f, Endpoint p, HandshakePool::Slot& s) {
    try {
      AcceptChild(std::move(f), p, s);
    } catch (const std::exception& e) {
      LogError("data connection from {} failed: {}", p.ToString(), e.what());
    }
  });
}

Status ReceiverImpl::Link(const Peer& parent, bool branch) {
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
  auto c = Connect(to, DeadlineIn(3));
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
  std::unique_ptr<SecureChannel> ch = std::move(w->channel);
  UniqueFd fd = ch->Release();
  uint64_t link;
  {
    std::lock_guard l(mu_);
    up_channel_ = std::move(ch);  // its keys seal our link beats; the relay owns the connection
    link = ++up_link_;
  }
  relay_->SetUpstream(std::move(fd), link);
  return Status::Ok();
}

void ReceiverImpl::LinkLoop() {
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

Status ReceiverImpl::HandleChain(const Json& body) {
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
    child_branch_fed_ = false;
    if (child == 0) {
      relay_->ReleaseHold();  // nobody will resume from us
      if (child_hold_ >= 0) {
        ring_->RemoveCursor(child_hold_);
        child_hold_ = -1;
      }
    } else if (child_hold_ < 0 && !relay_->has_child() && epoch_ == 1) {
      child_hold_ = ring_->AddCursor(ring_->head(), kHeldByChild);  // keep the start for our first child
    }
  }
  // Our chain's length (the entries between the sender's, docs/protocol.md §6) sets our batch.
  size_t first = me, last = me;
  while (first > 0 && order[first - 1].id != 0) --first;
  while (last + 1 < order.size() && order[last + 1].id != 0) ++last;
  relay_->SetBatch(BatchForChain(last - first + 1));
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

// Called for a data connection that authenticated: is it our child, at a position we hold?
Status ReceiverImpl::CheckChild(const Hello& hello) {
  if (hello.role != "data") return Status::Refused("only data connections are accepted here");
  if (hello.session != opt_.session || hello.session_id != session_id_)
    return Status::Refused("data connection for another session");
  std::lock_guard l(mu_);
  if (hello.node_id != expected_child_)
    return Status::Refused("node " + std::to_string(hello.node_id) + " is not our downstream neighbour");
  if (hello.position > ring_->head())
    return Status::Refused("position " + std::to_string(hello.position) + " is ahead of us");
  if (!ring_->Holds(hello.position)) {
    // It asks the sender for a direct branch now (LinkLoop), and never needs our window again: a
    // window kept for it would fill our ring and stall us.
    child_branch_fed_ = true;
    if (child_hold_ >= 0) {
      ring_->RemoveCursor(child_hold_);
      child_hold_ = -1;
    }
    return Status::Refused("position " + std::to_string(hello.position) +
                           " is no longer in our replay window (it holds " + std::to_string(ring_->tail()) + ".." +
                           std::to_string(ring_->head()) + ")");
  }
  child_branch_fed_ = false;
  return Status::Ok();
}

void ReceiverImpl::AcceptChild(UniqueFd fd, Endpoint peer, HandshakePool::Slot& slot) {
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
  if (Status s = CheckChild(hello); !s.ok()) {
    SendRefuse(*r->channel, s.message());
    LogWarn("refused data connection from {}: {}", peer.ToString(), s.message());
    return;
  }
  if (!r->channel->Send(FrameType::kWelcome, DataWelcome{hello.position}.ToJson(), 5).ok()) return;
  std::string name = hello.name.empty() ? peer.Host() : hello.name;
  UniqueFd link = r->channel->Release();
  auto watcher = std::make_shared<LinkWatcher>(hello.node_id, name, std::move(r->channel), freeze_detect_,
                                               std::max(freeze_detect_, node_timeout_));
  {
    std::lock_guard l(mu_);
    child_watcher_ = watcher;
  }
  relay_->OfferChild(std::move(link), hello.position, name, watcher);
  std::lock_guard l(mu_);
  if (child_hold_ >= 0) {
    ring_->RemoveCursor(child_hold_);
    child_hold_ = -1;
  }
}

}  // namespace ka::chain
