// The chain model: the sender feeds K chains (chain/topology.h) from ONE ring; each member
// receives from its parent and forwards to its child, as src/chain/relay.cc does.
//
// Time-stepped fluid simulation. Every member i has a stream position pos[i] (bytes received).
// In each step of dt seconds, members are updated in chain order (parent before child: a byte
// received in a step can be forwarded in the same step, as splice/tee forward before writing),
// and each gets
//     pos[i] += min(cap, avail - pos, ring_limit - pos, size - pos)
//   cap        link * dt (a node's download and its parent's upload, full duplex: one flow per
//              link in a chain); for members fed by the sender (chain heads, branches) their
//              share of uplink * dt, water-filled among the sender's flows (max-min fair, as TCP
//              flows sharing one link roughly are); both times the CPU factor below;
//   avail      what the parent holds (updated first in the same step); for a branch, anything
//              (the source is re-read);
//   ring_limit the member's ring (`--buffer`) never overruns its cursors (chain/ring.h): its
//              child's position and the `keep` rule (chain/keep_window.h: the least position of
//              the next two members downstream, branch-fed members excepted), so
//              ring_limit = min(pos of the next two members) + buffer. A last node has no limit.
// Catch-up (relay.cc, with splice, the default): while a member's child is behind it and took
// data in the last 50 ms (kChildStall), the member reads nothing from upstream: the child catches
// up from the ring, then both move zero-copy again. So after a re-link the new parent pauses until
// its new child has caught up. `--no-splice` (the copying relay) never pauses.
// The sender's ring (`--sender-buffer`) obeys the same rule over every chain it feeds: its head
// (what heads may receive) is min over chains of the first two members' positions + sender
// buffer, so a chain stalled near its head holds the ring's tail and, once the ring is full,
// stalls every other chain (docs/scale.md).
//
// Latency is a pure delay: a member d hops from the sender (its depth when it completes) gets
// every byte d x latency after the zero-latency model does, so its completion time is shifted by
// that much; so is what each hop holds before passing it on (`hop_bytes` / link rate: the relay's
// batches and socket buffers, measured on the bed). (Simulating the delay step by step instead, with positions
// interpolated from a history, smears the end of the stream over many hops: numerical diffusion of ~dt per hop.) Valid
// while latency << buffer / rate: backpressure and re-links are simulated without it. One
// exception: what the hops behind a failure hold still drains into them during the stall (each
// hop's HopBytes at the link rate, less half the relay's poll, which the re-filled pipeline pays),
// so a stall counts that much less for every hop between the failure and the member (Drained).

//
// Faults (times from the stream start, applied at the first step at or after them):
//   kill    the node leaves at once (its control connection closes); its successor re-links
//           to its predecessor `--relink` later;
//   freeze  the node stops receiving and forwarding but stays a member (its parent's cursor and
//           the keep rule still hold its position: the nodes before it fill their rings and
//           stop), dropped `--detect` later (chain/freeze_detector.h: a quiet node after 1.5 s),
//           then as a kill. A frozen process serves nobody: a node that re-links to it (its
//           successor was dropped first) waits until it is dropped in turn;
//   re-link the successor resumes from its new parent's window if it still holds the position
//           (head - buffer <= pos: the keep rule makes sure it does after one failure), else from
//           a sender branch (a file source: always possible), which shares the uplink and is
//           never limited by the sender's ring;
//   late    a node absent at the start is appended at the tail of the shortest chain, and
//           resumes from position 0 from the tail's window or, when it no longer holds 0, a branch.
// CPU (--host-cores C > 0): the CPU-seconds per GiB of each role (sender per GiB it sends,
// forwarding hop and last node per GiB they receive) are summed each step; when they exceed C
// cores every flow of the next step is scaled by C / demand (the scale tracks the demand: one
// step of lag).
//
// Where it is crude: no TCP dynamics (slow start, loss, retransmits: rates switch instantly); the
// keep positions are exact (the real ones are heartbeat reports, up to ~0.5 s old); ring data is
// held until overwritten but the local writer never lags (disks are infinitely fast); a frozen
// node is detected after exactly --detect (real: 1.5 s to --node-timeout); a stalled socket's
// bytes (a few MiB of TCP buffers per hop) are not modelled; the sender never lacks CPU to read
// the source; sender CPU is charged per byte sent to each flow.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <queue>

#include "chain/relay.h"
#include "sim/sim.h"

namespace ka::sim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kChildStall = 0.05;  // relay.h

enum class State : uint8_t { kWaiting, kActive, kFrozen, kDead };
enum class Kind : uint8_t { kKill, kFreeze, kDetect, kJoin };

struct Event {
  double t;
  Kind kind;
  int node;
  bool operator>(const Event& o) const { return t > o.t || (t == o.t && kind > o.kind); }
};

class ChainModel {
 public:
  explicit ChainModel(const SimParams& p);
  SimResult Run();

 private:
  void Apply(const Event& e);
  void Fail(int i);
  void Remove(int i);
  void Relink(int i);
  size_t IndexOf(int i) const;
  double RingLimit(const std::vector<int>& m, size_t k) const;
  // Connected to its parent and taking data.
  bool Ready(int i) const {
    auto u = static_cast<size_t>(i);
    return state_[u] == State::kActive && !pending_flag_[u] && t_ + 1e-9 >= ready_at_[u];
  }
  bool Paused(const std::vector<int>& m, size_t k) const;
  void Update(const std::vector<int>& m, size_t k, double cap, double avail, double limit, bool hop, bool from_sender);
  size_t ChainLen(size_t u) const;  // the planned length of u's chain (the relay's batch follows it)
  double HopBytes(size_t u) const;
  double Drained(const std::vector<int>& m, size_t k, double began) const;

  const SimParams& p_;
  int n_;
  double size_, link_, uplink_, dt_, buf_, sbuf_;
  chain::Topology topo_;
  std::vector<double> pos_;  // n_ + 1: slot n_ is the sender's ring head
  std::vector<State> state_;
  std::vector<uint8_t> branch_, pending_flag_, started_, failed_;
  std::vector<double> ready_at_, done_, last_growth_, max_stall_, alloc_;
  std::vector<double> resumed_at_, stall_began_;  // the last stall each node came out of
  std::vector<double> serves_;  // a frozen member: what it had forwarded to its child when it froze
  FailureTimes times_;          // per node: its freeze's detection, its successor's re-link
  std::vector<int> chain_of_, depth_, pending_, branches_;
  std::vector<std::vector<int>> chains_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  double t_ = 0, scale_ = 1, last_move_ = 0;
  double hop_b_ = 0, last_b_ = 0, sender_b_ = 0;
  int remaining_ = 0;
  bool moved_ = false;
};

ChainModel::ChainModel(const SimParams& p)
    : p_(p),
      n_(p.nodes),
      size_(p.size_bytes),
      link_(p.link_bps / 8 * p.wire_efficiency),
      uplink_((p.uplink_bps > 0 ? p.uplink_bps : p.link_bps) / 8 * p.wire_efficiency),
      buf_(p.buffer_bytes),
      sbuf_(p.sender_buffer_bytes) {
  topo_ = Plan(p);
  dt_ = StepFor(p, p.startup_s + size_ * 8 / std::max(topo_.per_chain_bps, 1.0));
  auto n = static_cast<size_t>(n_);
  pos_.assign(n + 1, 0);
  state_.assign(n, State::kActive);
  branch_.assign(n, 0);
  pending_flag_.assign(n, 0);
  started_.assign(n, 0);
  failed_.assign(n, 0);
  ready_at_.assign(n, 0);
  done_.assign(n, -1);
  last_growth_.assign(n, 0);
  max_stall_.assign(n, 0);
  resumed_at_.assign(n, -1);
  stall_began_.assign(n, -1);
  alloc_.assign(n, 0);
  serves_.assign(n, kInf);
  chain_of_.assign(n, -1);
  depth_.assign(n, 1);
  chains_.resize(static_cast<size_t>(topo_.chains));
  remaining_ = n_;
  t_ = p.startup_s;

  std::vector<NodeEvent> kills, freezes;
  DrawFailures(p, &kills, &freezes);
  times_ = TimesOf(p, kills, freezes);
  for (const auto& e : p.lates) {
    state_[static_cast<size_t>(e.node - 1)] = State::kWaiting;
    events_.push({p.startup_s + e.at, Kind::kJoin, e.node - 1});
  }
  for (const auto& e : kills) events_.push({p.startup_s + e.at, Kind::kKill, e.node - 1});
  for (const auto& e : freezes) events_.push({p.startup_s + e.at, Kind::kFreeze, e.node - 1});
  // The nodes present at the start, in locality order, cut into the planner's chains.
  int c = 0, in_chain = 0;
  for (int i = 0; i < n_ && c < topo_.chains; ++i) {
    if (state_[static_cast<size_t>(i)] == State::kWaiting) continue;
    chains_[static_cast<size_t>(c)].push_back(i);
    chain_of_[static_cast<size_t>(i)] = c;
    if (++in_chain == topo_.lengths[static_cast<size_t>(c)]) {
      ++c;
      in_chain = 0;
    }
  }
}

size_t ChainModel::IndexOf(int i) const {
  const auto& m = chains_[static_cast<size_t>(chain_of_[static_cast<size_t>(i)])];
  return static_cast<size_t>(std::find(m.begin(), m.end(), i) - m.begin());
}

double ChainModel::RingLimit(const std::vector<int>& m, size_t k) const {
  double lim = kInf;
  for (size_t j = k + 1; j < m.size() && j <= k + 2; ++j)
    if (!branch_[static_cast<size_t>(m[j])]) lim = std::min(lim, pos_[static_cast<size_t>(m[j])]);
  return lim + buf_;
}

// relay.cc's catch-up: m[k] reads nothing from upstream while its child (connected, fed by it) is
// behind it and took data within kChildStall.
bool ChainModel::Paused(const std::vector<int>& m, size_t k) const {
  if (!p_.splice || k + 1 >= m.size()) return false;
  int c = m[k + 1];
  auto cu = static_cast<size_t>(c);
  return !branch_[cu] && Ready(c) && pos_[cu] < pos_[static_cast<size_t>(m[k])] - 0.5 &&
         last_growth_[cu] >= t_ - kChildStall;
}

void ChainModel::Fail(int i) {
  auto u = static_cast<size_t>(i);
  if (failed_[u]) return;
  failed_[u] = 1;
  if (done_[u] < 0) --remaining_;
  done_[u] = -1;  // a failed node never completes (KO even if it had every byte)
}

// Out of its chain: its successor re-links `--relink` (or the failure's own) from now.
void ChainModel::Remove(int i) {
  const double relink = times_.relink_s[static_cast<size_t>(i)];
  auto& m = chains_[static_cast<size_t>(chain_of_[static_cast<size_t>(i)])];
  size_t k = IndexOf(i);
  if (k >= m.size()) return;
  m.erase(m.begin() + static_cast<std::ptrdiff_t>(k));
  if (k < m.size()) {
    auto s = static_cast<size_t>(m[k]);
    if (branch_[s]) return;  // fed by the sender directly: nothing changes for it
    ready_at_[s] = std::max(ready_at_[s], t_ + relink);
    if (!pending_flag_[s]) {
      pending_flag_[s] = 1;
      pending_.push_back(m[k]);
    }
  }
}

void ChainModel::Apply(const Event& e) {
  auto u = static_cast<size_t>(e.node);
  switch (e.kind) {
    case Kind::kKill:
      if (state_[u] == State::kDead) return;
      if (state_[u] != State::kWaiting) Remove(e.node);
      state_[u] = State::kDead;
      Fail(e.node);
      return;
    case Kind::kFreeze:
      if (state_[u] == State::kActive) {
        state_[u] = State::kFrozen;
        {
          const auto& m = chains_[static_cast<size_t>(chain_of_[u])];
          size_t k = IndexOf(e.node);
          serves_[u] = k + 1 < m.size() ? pos_[static_cast<size_t>(m[k + 1])] : 0;
        }
        events_.push({e.t + times_.detect_s[u], Kind::kDetect, e.node});
      } else if (state_[u] == State::kWaiting) {
        state_[u] = State::kDead;  // hung before it joined: it never will
      }
      Fail(e.node);
      return;
    case Kind::kDetect:
      if (state_[u] != State::kFrozen) return;
      Remove(e.node);
      state_[u] = State::kDead;
      return;
    case Kind::kJoin: {
      if (state_[u] != State::kWaiting) return;
      if (chains_.empty()) chains_.emplace_back();  // every node joined late
      size_t best = 0;
      for (size_t c = 1; c < chains_.size(); ++c)
        if (chains_[c].size() < chains_[best].size()) best = c;
      chains_[best].push_back(e.node);
      chain_of_[u] = static_cast<int>(best);
      state_[u] = State::kActive;
      ready_at_[u] = t_ + p_.relink_s;  // its data connection and handshake
      pending_flag_[u] = 1;
      pending_.push_back(e.node);
      return;
    }
  }
}

// Connects i to its predecessor (or the sender): from its window if it still holds i's position,
// else from a sender branch.
void ChainModel::Relink(int i) {
  auto u = static_cast<size_t>(i);
  pending_flag_[u] = 0;
  if (state_[u] != State::kActive) return;
  const auto& m = chains_[static_cast<size_t>(chain_of_[u])];
  size_t k = IndexOf(i);
  double head = k == 0 ? pos_[static_cast<size_t>(n_)] : pos_[static_cast<size_t>(m[k - 1])];
  double window = k == 0 ? sbuf_ : buf_;
  if (head - window > pos_[u] + 0.5) {
    branch_[u] = 1;
    branches_.push_back(i);
  }
}

// What one hop holds: --hop-bytes (fitted with the relay's default batch) scaled as the relay
// scales its batch for a chain this long (chain/relay.h BatchForChain), at most --hop-polls of the
// relay's polls at the link rate (a slow link wakes the relay on its poll, not on its batch).
size_t ChainModel::ChainLen(size_t u) const {
  int c = chain_of_[u];
  return c >= 0 && static_cast<size_t>(c) < topo_.lengths.size()
             ? static_cast<size_t>(topo_.lengths[static_cast<size_t>(c)])
             : static_cast<size_t>(n_);
}

double ChainModel::HopBytes(size_t u) const {
  const chain::RelayBatch batch = chain::BatchForChain(ChainLen(u));
  double bytes = p_.hop_bytes * static_cast<double>(batch.lowat) / static_cast<double>(chain::RelayBatch{}.lowat);
  // A slow link: the relay wakes on its poll before a batch is in, and a hop holds about that long.
  if (p_.hop_polls > 0) bytes = std::min(bytes, p_.hop_polls * batch.poll_ms / 1000.0 * link_);
  return bytes;
}

// How long the bytes queued in the hops into m[k] kept it fed after a stall that began at `began`
// (zero-latency time): each hop's queue (HopBytes at the link rate, less half the relay's poll, which
// the re-filled pipeline still pays) drains on into the members behind a failure. The hops counted are
// m[k]'s own and those of the members just before it that came out of the same stall in this step
// (the members between the failure and m[k]).
double ChainModel::Drained(const std::vector<int>& m, size_t k, double began) const {
  size_t hops = 1;
  for (size_t j = k; j-- > 0;) {
    auto q = static_cast<size_t>(m[j]);
    if (branch_[q] || resumed_at_[q] != t_ || std::abs(stall_began_[q] - began) > 2 * dt_) break;
    ++hops;
  }
  auto u = static_cast<size_t>(m[k]);
  // A re-filled hop passes data on at its relay's next poll: half a poll on average.
  double per_hop = HopBytes(u) / link_ - chain::BatchForChain(ChainLen(u)).poll_ms / 2000.0;
  return static_cast<double>(hops) * std::max(0.0, per_hop);
}

void ChainModel::Update(const std::vector<int>& m, size_t k, double cap, double avail, double limit, bool hop,
                        bool from_sender) {
  int i = m[k];
  auto u = static_cast<size_t>(i);
  double old = pos_[u];
  double nw = std::min({old + cap, avail, limit, size_});
  if (!(nw > old)) return;
  double d = nw - old;
  pos_[u] = nw;
  (hop ? hop_b_ : last_b_) += d;
  if (from_sender) sender_b_ += d;
  if (started_[u] && t_ - last_growth_[u] > 1e-9) {
    double gap = t_ - last_growth_[u];
    if (gap > 2 * dt_) {
      gap = std::max(0.0, gap - Drained(m, k, last_growth_[u]));
      resumed_at_[u] = t_;
      stall_began_[u] = last_growth_[u];
    }
    max_stall_[u] = std::max(max_stall_[u], gap);
  }
  started_[u] = 1;
  last_growth_[u] = t_ + dt_;
  if (old < size_ && nw >= size_ && !failed_[u]) {
    done_[u] = t_ + dt_ * (size_ - old) / d + depth_[u] * (p_.latency_s + HopBytes(u) / link_);
    --remaining_;
  }
  moved_ = true;
}

SimResult ChainModel::Run() {
  struct Flow {
    int node;
    size_t k;
    double demand;
  };
  std::vector<Flow> flows;
  last_move_ = t_;
  while (remaining_ > 0 && t_ < 1e6) {
    while (!events_.empty() && events_.top().t <= t_ + 1e-9) {
      Event e = events_.top();
      events_.pop();
      Apply(e);
    }
    if (!pending_.empty()) {
      std::vector<int> later;
      for (int i : pending_) {
        if (t_ + 1e-9 >= ready_at_[static_cast<size_t>(i)])
          Relink(i);
        else
          later.push_back(i);
      }
      pending_.swap(later);
    }
    // The sender's ring head: its oldest cursor (heads, keep) + its buffer.
    double smin = kInf;
    for (const auto& m : chains_)
      for (size_t k = 0; k < m.size() && k < 2; ++k)
        if (!branch_[static_cast<size_t>(m[k])]) smin = std::min(smin, pos_[static_cast<size_t>(m[k])]);
    auto sn = static_cast<size_t>(n_);
    pos_[sn] = std::max(pos_[sn], std::min(size_, smin + sbuf_));

    // The sender's flows share its uplink (water-filling).
    double cap = link_ * dt_ * scale_;
    flows.clear();
    auto add_flow = [&](int i, size_t k) {
      auto u = static_cast<size_t>(i);
      const auto& m = chains_[static_cast<size_t>(chain_of_[u])];
      double avail = branch_[u] ? size_ : pos_[static_cast<size_t>(n_)];
      double d = std::min({cap, avail - pos_[u], RingLimit(m, k) - pos_[u], size_ - pos_[u]});
      flows.push_back({i, k, std::max(0.0, d)});
    };
    for (const auto& m : chains_)
      if (!m.empty() && !branch_[static_cast<size_t>(m[0])] && Ready(m[0]) && !Paused(m, 0)) add_flow(m[0], 0);
    for (int b : branches_)
      if (Ready(b) && !Paused(chains_[static_cast<size_t>(chain_of_[static_cast<size_t>(b)])], IndexOf(b)))
        add_flow(b, IndexOf(b));
    std::sort(flows.begin(), flows.end(), [](const Flow& a, const Flow& b) { return a.demand < b.demand; });
    double pool = uplink_ * dt_ * scale_;
    for (size_t f = 0; f < flows.size(); ++f) {
      double give = std::min(flows[f].demand, pool / static_cast<double>(flows.size() - f));
      alloc_[static_cast<size_t>(flows[f].node)] = give;
      pool -= give;
    }

    moved_ = false;
    hop_b_ = last_b_ = sender_b_ = 0;
    for (const auto& m : chains_) {
      size_t len = m.size();
      for (size_t k = 0; k < len; ++k) {
        int i = m[k];
        auto u = static_cast<size_t>(i);
        depth_[u] = k == 0 || branch_[u] ? 1 : depth_[static_cast<size_t>(m[k - 1])] + 1;
        if (Ready(i)) {
          bool hop = k + 1 < len && !branch_[static_cast<size_t>(m[k + 1])];
          double limit = k + 1 < len ? RingLimit(m, k) : kInf;
          if (Paused(m, k)) {
            // reads nothing this step
          } else if (branch_[u] || k == 0) {
            Update(m, k, alloc_[u], branch_[u] ? size_ : pos_[static_cast<size_t>(n_)], limit, hop, true);
          } else {
            auto q = static_cast<size_t>(m[k - 1]);
            Update(m, k, cap, std::min(pos_[q], serves_[q]), limit, hop, false);
          }
        }
      }
    }
    if (p_.host_cores > 0) {
      double cores = (hop_b_ * p_.cpu_hop + last_b_ * p_.cpu_last + sender_b_ * p_.cpu_sender) / kGiB / dt_;
      if (cores > 0) scale_ = std::min(1.0, scale_ * p_.host_cores / cores);
    }
    t_ += dt_;
    if (moved_) last_move_ = t_;
    // Nothing moved for a while and nothing will change: the rest are stuck for good.
    if (events_.empty() && pending_.empty() && t_ - last_move_ > p_.latency_s + 1.0) break;
  }

  SimResult r;
  r.mode = "chain";
  r.topology = topo_;
  r.dt = dt_;
  r.nodes.resize(static_cast<size_t>(n_));
  for (size_t u = 0; u < r.nodes.size(); ++u) {
    r.nodes[u].done_s = done_[u];
    r.nodes[u].failed = failed_[u] != 0;
    r.nodes[u].max_stall_s = max_stall_[u];
    r.nodes[u].chain = chain_of_[u];
    r.nodes[u].branch = branch_[u] != 0;
    r.branches += branch_[u] != 0;
  }
  for (const auto& m : chains_)
    for (auto it = m.rbegin(); it != m.rend(); ++it)
      if (!failed_[static_cast<size_t>(*it)]) {
        r.stall_s = std::max(r.stall_s, max_stall_[static_cast<size_t>(*it)]);
        break;
      }
  ControlLoad(p_, n_, static_cast<int>(chains_.size()), &r);  // the chain heads' link beats
  Summarize(p_, &r);
  return r;
}

}  // namespace

SimResult RunChain(const SimParams& p) {
  auto t0 = std::chrono::steady_clock::now();
  SimResult r = ChainModel(p).Run();
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace ka::sim
