// SenderImpl: the members before and between streams: waiting for them,
// their order, the CHAIN sent at the start and at every relink, and the
// PREPARE phase. See sender_impl.h.
#include <arpa/inet.h>
#include <fmt/ranges.h>

#include "chain/sender_impl.h"
#include "chain/topology.h"
#include "util/log.h"

namespace ka::chain {

bool SenderImpl::WaitForStart() {
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

// Orders the members by address (numerically), then port: neighbours on a
// subnet stay adjacent; then cuts that order into the chains fed at once
// (contiguous runs, so each chain stays on its part of the network). Called
// with mu_ held, at the start.
void SenderImpl::OrderChain() {
  std::vector<PlaceNode> place;
  for (auto& n : nodes_) place.push_back({ntohl(n->endpoint.addr.sin_addr.s_addr), n->data_port, n->link_mbps});
  std::vector<std::shared_ptr<Node>> ordered;
  for (size_t i : PlacementOrder(place)) ordered.push_back(nodes_[i]);
  nodes_.swap(ordered);
  int count = static_cast<int>(nodes_.size());
  if (count > 1 && nodes_.front()->link_mbps != nodes_.back()->link_mbps && nodes_.back()->link_mbps != 0) {
    int slow = 0;
    for (auto& n : nodes_) slow += n->link_mbps == nodes_.back()->link_mbps;
    LogInfo(
        "placed by link speed: the {} node(s) at {} Mbit/s go last (the tails of the last chain(s)), after the "
        "faster ones",
        slow, nodes_.back()->link_mbps);
  }
  Topology plan = PlanChains(count);
  AddRelays(plan.chains);
  if (plan.chains > 1 || opt_.chains > 0 || opt_.max_chain > 0)
    LogInfo("{} chain(s) of {}: {}", plan.chains, fmt::join(plan.lengths, ", "), plan.why);
  for (int i = 0; i < count; ++i) {
    auto& n = nodes_[static_cast<size_t>(i)];
    n->position = i + 1;
    n->chain = std::max(0, TopologyChainOf(plan, i));  // contiguous runs of the address order
    n->state = NodeState::kStreaming;
    n->liveness->Heard(Clock::now());
    observer_.NodePosition(n->name, n->position);
  }
}

// How many chains the sender feeds at once, and which nodes each takes
// (chain/topology.h): --chains / --max-chain, else as many as our link can
// feed at the nodes' rate, more only when that shortens the expected time.
// The links are as declared (--uplink, --link) or as the kernels report them.
Topology SenderImpl::PlanChains(int members) const {
  TopologyInput in;
  in.nodes = members;
  in.chains = opt_.chains;
  in.max_chain = opt_.max_chain;
  in.uplink_bps = opt_.uplink_bps > 0 ? opt_.uplink_bps : uplink_mbps_ * 1e6;
  in.link_bps = opt_.link_bps;
  if (in.link_bps <= 0) {  // the slowest link a node reported
    uint32_t least = 0;
    for (auto& n : nodes_)
      if (n->link_mbps && (!least || n->link_mbps < least)) least = n->link_mbps;
    in.link_bps = least * 1e6;
  }
  if (source_ && source_->size()) in.size_bytes = static_cast<double>(*source_->size());
  Topology t = PlanTopology(in);
  if (t.lengths.empty()) t.lengths.assign(1, members);
  return t;
}

// Grows the sender's relays (one per chain, all reading ring_) to `chains`.
// Called with mu_ held.
void SenderImpl::AddRelays(int chains) {
  while (relays_.size() < static_cast<size_t>(chains)) {
    const int tag = kHeldByChain0 + static_cast<int>(relays_.size());  // who holds our ring: this chain's head
    relays_.push_back(std::make_unique<Relay>(ring_, /*use_splice=*/false, /*hold_seconds=*/30));
    chain_heads_.push_back(0);
    head_holds_.push_back(ring_.AddCursor(0, tag));  // the stream start stays until this chain's head connects
    Relay* r = relays_.back().get();
    r->SetChildTag(tag);
    relay_threads_.emplace_back([r] { r->Run(); });
  }
}

void SenderImpl::ReleaseHeadHold(size_t chain) {
  if (chain < head_holds_.size() && head_holds_[chain] >= 0) {
    ring_.RemoveCursor(head_holds_[chain]);
    head_holds_[chain] = -1;
  }
}

// A late joiner goes to the tail of the chain with the fewest live members
// (`self`, already listed, not counted).
int SenderImpl::ChainForLateJoiner(const Node* self) const {
  std::vector<int> live(std::max<size_t>(1, relays_.size()), 0);
  for (auto& n : nodes_)
    if (Live(*n) && n.get() != self) ++live[static_cast<size_t>(n->chain)];
  return static_cast<int>(std::min_element(live.begin(), live.end()) - live.begin());
}

bool SenderImpl::IsChainHead(uint64_t node_id) const {
  return node_id != 0 && std::find(chain_heads_.begin(), chain_heads_.end(), node_id) != chain_heads_.end();
}

int SenderImpl::ChainOf(uint64_t node_id) const {
  for (auto& n : nodes_)
    if (n->id == node_id) return n->chain;
  return -1;
}

// What has gone into every chain: the least position sent to a connected
// chain head (the most, when no head is connected). Called with mu_ held.
uint64_t SenderImpl::SentPosition() const {
  uint64_t least = UINT64_MAX, most = 0;
  for (auto& r : relays_) {
    uint64_t p = r->child_position();
    most = std::max(most, p);
    if (r->has_child()) least = std::min(least, p);
  }
  return least == UINT64_MAX ? most : least;
}

// Sends every live node the chains of live nodes, in their order. With
// several chains the CHAIN lists each one after an entry for the sender
// (docs/protocol.md §6): a node whose predecessor is that entry connects to
// the sender. Called with mu_ held; releases it while sending.
void SenderImpl::SendChain(std::unique_lock<std::mutex>& lock) {
  ++epoch_;
  ChainMsg chain;
  chain.epoch = epoch_;
  std::vector<std::vector<std::shared_ptr<Node>>> chains(relays_.size());
  for (auto& n : nodes_)
    if (Live(*n)) chains[static_cast<size_t>(n->chain)].push_back(n);
  std::string line;
  std::vector<std::shared_ptr<Node>> members;
  for (size_t c = 0; c < chains.size(); ++c) {
    uint64_t head = chains[c].empty() ? 0 : chains[c].front()->id;
    if (head != chain_heads_[c] && chain_heads_[c] != 0) relays_[c]->KickChild();  // e.g. a frozen head
    chain_heads_[c] = head;
    if (chains[c].empty()) {  // nobody left to feed here: nothing to keep for it
      relays_[c]->ReleaseHold();
      ReleaseHeadHold(c);
      continue;
    }
    chain.order.push_back({0, "sender", "", opt_.port});
    line += line.empty() ? "sender" : " | sender";  // chains fed at once are listed one after the other
    for (auto& n : chains[c]) {
      chain.order.push_back({n->id, n->name, n->endpoint.Host(), n->data_port});
      line += " -> " + n->name;
      members.push_back(n);
    }
  }
  LogInfo("chain (epoch {}): {}", epoch_, members.empty() ? std::string("sender (no member left)") : line);
  std::vector<std::string> names;
  for (auto& n : members) names.push_back(n->name);
  observer_.ChainChanged(names);
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
void SenderImpl::PreparePhase(std::unique_lock<std::mutex>& lock) {
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
  observer_.PhaseChanged("preparing");
  lock.unlock();
  std::vector<std::pair<std::shared_ptr<Node>, Status>> failed;
  for (auto& [n, body] : sends)
    if (Status s = n->channel->Send(FrameType::kPrepare, body, 5); !s.ok()) failed.emplace_back(n, s);
  lock.lock();
  for (auto& [n, s] : failed) DropNode(*n, "could not send PREPARE: " + s.ToString());
  WaitPrepared(lock, t0);
  relink_needed_ = false;
  for (auto& n : nodes_)
    if (n->state == NodeState::kReady) n->state = NodeState::kStreaming;
  prepare_seconds_ = std::chrono::duration<double>(Clock::now() - t0).count();
  LogInfo("prepare phase done in {:.1f} s", prepare_seconds_);
}

// Until no live node is still preparing (those out of time are dropped).
void SenderImpl::WaitPrepared(std::unique_lock<std::mutex>& lock, Clock::time_point t0) {
  auto last_print = Clock::now();
  for (;;) {
    std::vector<std::string> pending;
    for (auto& n : nodes_)
      if (Live(*n) && n->state == NodeState::kPreparing) pending.push_back(n->name);
    if (pending.empty()) return;
    double waited = std::chrono::duration<double>(Clock::now() - t0).count();
    if (waited > opt_.prepare_timeout) {
      for (auto& n : nodes_)
        if (Live(*n) && n->state == NodeState::kPreparing)
          DropNode(*n, fmt::format("not ready after {:.0f} s (--prepare-timeout)", waited));
      return;
    }
    if (Clock::now() - last_print >= std::chrono::duration<double>(opt_.progress_interval)) {
      LogInfo("{:6.1f}s  waiting for {} node(s) to prepare: {}", waited, pending.size(), fmt::join(pending, " "));
      last_print = Clock::now();
    }
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    CheckTimeouts();
  }
}

bool SenderImpl::AllFinished() {
  for (auto& n : nodes_)
    if (n->state != NodeState::kDone && n->state != NodeState::kFailed) return false;
  return true;
}

}  // namespace ka::chain
