// SenderImpl: the members before and between streams: waiting for them,
// their order, the CHAIN sent at the start and at every relink, and the
// PREPARE phase. See sender_impl.h.
#include <arpa/inet.h>
#include <fmt/ranges.h>

#include "chain/sender_impl.h"
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
// subnet stay adjacent. Called with mu_ held, at the start.
void SenderImpl::OrderChain() {
  std::sort(nodes_.begin(), nodes_.end(), [](const auto& a, const auto& b) {
    uint32_t x = ntohl(a->endpoint.addr.sin_addr.s_addr), y = ntohl(b->endpoint.addr.sin_addr.s_addr);
    if (x != y) return x < y;
    return a->data_port < b->data_port;
  });
  for (size_t i = 0; i < nodes_.size(); ++i) {
    nodes_[i]->position = static_cast<int>(i + 1);
    nodes_[i]->state = NodeState::kStreaming;
    nodes_[i]->liveness->Heard(Clock::now());
    observer_.NodePosition(nodes_[i]->name, nodes_[i]->position);
  }
}

// Sends the chain of live nodes (in their order) to every live node. Called
// with mu_ held; releases it while sending.
void SenderImpl::SendChain(std::unique_lock<std::mutex>& lock) {
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
