// The forest model (`ka sim --mode forest`): SplitStream-like striping (Castro et al., SOSP 2003),
// a topology ka does not build yet, modelled with the chain model's rules and parameters so that
// the two can be compared (docs/scale.md, "The forest model").
//
// The stream is cut into k stripes (chunk i belongs to stripe i mod k: stripe s is S / k bytes).
// Stripe s travels down its own tree of fan-out k, laid out by chain::PlanForest (the code a
// sender feeding a forest would use): the nodes (locality order) are cut into k contiguous groups;
// tree s lists group s first, then every other node, as a k-ary heap. So a node is interior in its
// own group's tree (it forwards that stripe to k children: one link's worth of upload) and a leaf
// in the others, and a tree is log_k N deep. (Groups differ by one node: a tree whose group is one
// short hangs its last few leaves on nodes of a larger group that have spare slots, one level
// deeper.) k = 1 is one chain.
//
// Time-stepped fluid, as chain_sim.cc: every node has a position per stripe (stripe bytes held).
// Each step of dt, the stripes are updated one after the other, each tree parent before child (a
// byte received in a step may be forwarded in the same step), every flow by
//     pos += min(cap, avail - pos, limit - pos, S / k - pos)
//   cap    link / max(k, children of the parent) x dt: a node's download is split evenly over its k
//          stripes (link / k each: it downloads them all at once) and its upload over its children
//          (k of them normally: link / k each; more after an overload, below). The sender's
//          flows (the k roots and any branch) share its uplink, each at most link / k.
//   avail  the parent's stripe position (already updated this step); a frozen parent serves
//          nothing; the sender holds the whole stream, paced at (1 - H) x the stream rate when
//          `--forest-headroom H` > 0.
//   limit  the node's rings: `--buffer` split in k stripe rings of buffer / k. The consumer writes
//          the stream in order (it merges the k rings), so no stripe runs more than buffer / k ahead
//          of the node's slowest stripe; and a stripe the node forwards is held for its children
//          and grandchildren in that tree (the chain's keep rule). Both read the positions at the
//          start of the step (one step of lag, so that one pass over the stripes suffices).
// So a stripe stalled at a node backs its other stripes up once their rings are full, and with
// them the stripe it forwards: with rings shorter than a stall, a stall spreads to other trees.
//
// Latency, start-up, wire efficiency as in the chain: a node completes when its last stripe
// does; a stripe completes depth x (latency + hop_bytes / (link / k)) after the zero-latency
// model (each hop holds hop_bytes, and it arrives at a stripe's rate).
//
// Faults: the chain's draw (DrawFailures: same nodes, same times). A kill is known at once, a
// freeze after `--detect`; then the node leaves every tree. That frees one upload slot at each of
// its parents (one per stripe: its place as their child) and orphans its children (normally k, in
// its own stripe). `--relink` later each orphan is adopted, in order of preference, by
//   1. a freed slot (its old parent first) whose owner is not in its subtree and whose ring still
//      holds the orphan's position (head - buffer / k <= pos). Capacity is conserved: k slots for
//      k orphans, and the adopted subtree hangs one tree deeper (the latency term grows);
//   2. a sender branch (a file source: always holds the position) when the sender has spare
//      uplink for another link / k flow;
//   3. its nearest live ancestor that holds the position, overloaded: that node's children then
//      share its upload (cap above) until the end;
//   4. a sender branch anyway (it then slows the roots: the uplink is shared).
// A frozen parent serves nothing: an orphan adopted by a node that is frozen too waits until that
// one is dropped. A leaf's failure costs nobody anything. A stall in stripe s delays a node by what
// its stripe-s ancestors' failures cost, plus what the rings pass on between stripes (above).
//
// Where it is crude (on top of the chain model's: no TCP, exact detection, exact keep positions):
// the trees are built once, perfectly balanced, before the first byte; no slot is re-balanced
// after adoption (a tree only deepens); late joiners are not modelled (they count as present from
// the start); no CPU model (--host-cores is ignored); the sender's ring is not modelled (it reads
// the file for every flow); a node's download is split evenly over its stripes (no stripe may
// borrow another's share, even when that one has nothing to receive).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <queue>
#include <string>

#include "chain/forest_plan.h"
#include "chain/relay.h"
#include "sim/sim.h"

namespace ka::sim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kSender = -1;  // a flow's parent: the sender
constexpr int kNone = -2;    // an orphan waiting to be adopted

enum class State : uint8_t { kActive, kFrozen, kDead };
enum class Kind : uint8_t { kKill, kFreeze, kDetect, kAdopt };

struct Event {
  double t;
  Kind kind;
  int node;  // kAdopt: the index of the adoption batch
  bool operator>(const Event& o) const { return t > o.t || (t == o.t && kind > o.kind); }
};

// The orphans of one failed node and the slots its departure freed.
struct Adoption {
  std::vector<std::pair<int, int>> orphans;  // (node, stripe)
  std::vector<int> slots;                    // parents of the failed node: nodes or kSender
  std::vector<int> old_parent;               // per stripe: the failed node's parent there
};

class ForestModel {
 public:
  ForestModel(const SimParams& p, int k);
  SimResult Run();

 private:
  size_t F(int s, int u) const { return static_cast<size_t>(s) * un_ + static_cast<size_t>(u); }
  void Apply(const Event& e);
  void Fail(int u);
  void Remove(int u);
  void Adopt(const Adoption& a);
  bool InSubtree(int node, int s, int root) const;
  bool Holds(int a, int s, double pos) const;
  void Reorder();
  int SenderFlows() const;

  const SimParams& p_;
  int n_, k_;
  size_t un_;
  double size_, ss_, link_, uplink_, ring_, dt_, hop_s_;
  std::vector<double> pos_, stripe_done_, keep_, child_min_, cons_min_;
  std::vector<int> parent_, depth_;
  std::vector<uint8_t> branch_;
  std::vector<std::vector<std::pair<int, int>>> kids_;  // per node: (child, stripe)
  std::vector<std::vector<int>> order_;                 // per stripe: parents before children
  std::vector<State> state_;
  std::vector<uint8_t> failed_;
  std::vector<int> stripes_done_;
  std::vector<double> done_, last_growth_, max_stall_, last_cons_;
  FailureTimes times_;  // per node: its freeze's detection, its orphans' re-link
  std::vector<Adoption> adoptions_;
  std::vector<int> pending_;  // adoptions not done yet: their old parents still hold the orphans
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  double t_ = 0;
  int remaining_ = 0, max_depth_ = 0, overloads_ = 0;
  bool dirty_ = true;
};

ForestModel::ForestModel(const SimParams& p, int k)
    : p_(p),
      n_(p.nodes),
      k_(k),
      un_(static_cast<size_t>(p.nodes)),
      size_(p.size_bytes),
      ss_(p.size_bytes / k),
      link_(p.link_bps / 8 * p.wire_efficiency),
      uplink_((p.uplink_bps > 0 ? p.uplink_bps : p.link_bps) / 8 * p.wire_efficiency),
      ring_(p.buffer_bytes / k) {
  hop_s_ = p.latency_s + p.hop_bytes / (link_ / k);
  // The time step: p.dt, or 5 ms raised so that flows x steps stay under ~1e8 (at most 20 ms).
  double expected = p.startup_s + size_ / std::min(link_, uplink_);
  dt_ = p.dt > 0 ? p.dt : 0.005;
  double work = static_cast<double>(n_) * k * expected / dt_;
  if (p.dt <= 0 && work > 1e8) dt_ = std::min(0.02, dt_ * work / 1e8);
  size_t nf = un_ * static_cast<size_t>(k);
  pos_.assign(nf, 0);
  stripe_done_.assign(nf, -1);
  keep_.assign(nf, kInf);
  child_min_.assign(nf, kInf);
  parent_.assign(nf, kNone);
  depth_.assign(nf, 1);
  branch_.assign(nf, 0);
  cons_min_.assign(un_, 0);
  kids_.resize(un_);
  order_.resize(static_cast<size_t>(k));
  state_.assign(un_, State::kActive);
  failed_.assign(un_, 0);
  stripes_done_.assign(un_, 0);
  done_.assign(un_, -1);
  last_growth_.assign(un_, 0);
  max_stall_.assign(un_, 0);
  last_cons_.assign(un_, 0);
  remaining_ = n_;
  t_ = p.startup_s;

  // The trees as a sender would build them (chain/forest_plan.h): tree s is group s first, then
  // the others, as a k-ary heap; nobody forwards more than k flows.
  chain::ForestPlan plan = chain::PlanForest(n_, k);
  for (int s = 0; s < k; ++s)
    for (int u = 0; u < n_; ++u) {
      int par = plan.Parent(s, u);
      parent_[F(s, u)] = par == chain::kForestSender ? kSender : par;
    }
  for (size_t u = 0; u < un_; ++u) kids_[u] = plan.children[u];

  std::vector<NodeEvent> kills, freezes;
  DrawFailures(p, &kills, &freezes);
  times_ = TimesOf(p, kills, freezes);
  for (const auto& e : kills) events_.push({p.startup_s + e.at, Kind::kKill, e.node - 1});
  for (const auto& e : freezes) events_.push({p.startup_s + e.at, Kind::kFreeze, e.node - 1});
}

// Every stripe's nodes, parents before children (breadth first from the sender), and depths.
void ForestModel::Reorder() {
  dirty_ = false;
  for (int s = 0; s < k_; ++s) {
    auto& o = order_[static_cast<size_t>(s)];
    o.clear();
    for (int u = 0; u < n_; ++u)
      if (parent_[F(s, u)] == kSender && state_[static_cast<size_t>(u)] != State::kDead) {
        depth_[F(s, u)] = 1;
        o.push_back(u);
      }
    for (size_t i = 0; i < o.size(); ++i) {
      int u = o[i];
      for (const auto& [c, cs] : kids_[static_cast<size_t>(u)])
        if (cs == s) {
          depth_[F(s, c)] = depth_[F(s, u)] + 1;
          o.push_back(c);
        }
    }
    // Orphans (no parent yet) are not in the order: they receive nothing until adopted.
  }
  if (max_depth_ == 0) {
    for (size_t f = 0; f < depth_.size(); ++f) max_depth_ = std::max(max_depth_, depth_[f]);
    // A hop holds a relay batch, which ka scales down for deep paths (chain/relay.h); a tree
    // path of depth d is a chain of d members.
    double scale = static_cast<double>(chain::BatchForChain(static_cast<size_t>(max_depth_)).lowat) /
                   static_cast<double>(chain::RelayBatch{}.lowat);
    hop_s_ = p_.latency_s + p_.hop_bytes * scale / (link_ / k_);
  }
}

void ForestModel::Fail(int u) {
  auto v = static_cast<size_t>(u);
  if (failed_[v]) return;
  failed_[v] = 1;
  if (done_[v] < 0) --remaining_;
  done_[v] = -1;  // a failed node never completes (KO even if it had every byte)
}

// Out of every tree: its places as a child become free slots, its children orphans.
void ForestModel::Remove(int u) {
  auto v = static_cast<size_t>(u);
  Adoption a;
  a.old_parent.assign(static_cast<size_t>(k_), kNone);
  for (int s = 0; s < k_; ++s) {
    int par = parent_[F(s, u)];
    a.old_parent[static_cast<size_t>(s)] = par;
    parent_[F(s, u)] = kNone;
    if (par == kNone) continue;
    if (par >= 0) {
      auto& pk = kids_[static_cast<size_t>(par)];
      pk.erase(std::remove(pk.begin(), pk.end(), std::make_pair(u, s)), pk.end());
    }
    if (!branch_[F(s, u)]) a.slots.push_back(par);  // a branch frees no tree slot
  }
  for (const auto& [c, s] : kids_[v]) {
    parent_[F(s, c)] = kNone;
    a.orphans.emplace_back(c, s);
  }
  kids_[v].clear();
  state_[v] = State::kDead;
  dirty_ = true;
  if (a.orphans.empty()) return;  // a leaf everywhere: nobody notices
  adoptions_.push_back(std::move(a));
  pending_.push_back(static_cast<int>(adoptions_.size() - 1));
  events_.push({t_ + times_.relink_s[v], Kind::kAdopt, static_cast<int>(adoptions_.size() - 1)});
}

// Whether `node` is `root` or below it in tree s (walks up from node).
bool ForestModel::InSubtree(int node, int s, int root) const {
  for (int x = node, steps = 0; x >= 0 && steps <= n_; x = parent_[F(s, x)], ++steps)
    if (x == root) return true;
  return false;
}

// Whether a (a node or the sender) can serve stripe s from `pos`: its stripe ring still holds it.
bool ForestModel::Holds(int a, int s, double pos) const {
  if (a == kSender) return true;
  return state_[static_cast<size_t>(a)] != State::kDead && pos_[F(s, a)] - ring_ <= pos + 0.5;
}

int ForestModel::SenderFlows() const {
  int flows = 0;
  for (int s = 0; s < k_; ++s)
    for (int u = 0; u < n_; ++u)
      if (parent_[F(s, u)] == kSender && state_[static_cast<size_t>(u)] != State::kDead && pos_[F(s, u)] < ss_) ++flows;
  return flows;
}

void ForestModel::Adopt(const Adoption& a) {
  std::vector<int> slots = a.slots;
  for (const auto& [c, s] : a.orphans) {
    auto cf = F(s, c);
    if (state_[static_cast<size_t>(c)] == State::kDead || parent_[cf] != kNone) continue;
    double pos = pos_[cf];
    int chosen = kNone;
    bool branch = false;
    // 1. A freed slot, the orphan's old grandparent (the failed node's parent in s) first.
    int old = a.old_parent[static_cast<size_t>(s)];
    std::stable_sort(slots.begin(), slots.end(), [old](int x, int y) { return (x == old) > (y == old); });
    for (size_t i = 0; i < slots.size(); ++i) {
      int o = slots[i];
      if (o == kNone || (o >= 0 && InSubtree(o, s, c)) || !Holds(o, s, pos)) continue;
      chosen = o;
      slots.erase(slots.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
    // 2. A sender branch when the uplink has room for one more stripe flow.
    if (chosen == kNone && uplink_ - SenderFlows() * link_ / k_ >= link_ / k_ - 1e-9) {
      chosen = kSender;
      branch = true;
    }
    // 3. The nearest live ancestor that holds the position, overloaded.
    if (chosen == kNone)
      for (int x = old, steps = 0; x >= 0 && steps <= n_; ++steps) {
        if (state_[static_cast<size_t>(x)] != State::kDead && Holds(x, s, pos)) {
          chosen = x;
          ++overloads_;
          break;
        }
        int up = parent_[F(s, x)];
        if (up == kNone) break;
        x = up;
      }
    // 4. A sender branch anyway.
    if (chosen == kNone) {
      chosen = kSender;
      branch = true;
    }
    parent_[cf] = chosen;
    branch_[cf] = branch ? 1 : 0;
    if (chosen >= 0) kids_[static_cast<size_t>(chosen)].emplace_back(c, s);
  }
  dirty_ = true;
}

void ForestModel::Apply(const Event& e) {
  auto v = static_cast<size_t>(e.node);
  switch (e.kind) {
    case Kind::kKill:
      if (state_[v] == State::kDead) return;
      Fail(e.node);
      Remove(e.node);
      return;
    case Kind::kFreeze:
      if (state_[v] != State::kActive) return;
      state_[v] = State::kFrozen;
      Fail(e.node);
      events_.push({e.t + times_.detect_s[v], Kind::kDetect, e.node});
      return;
    case Kind::kDetect:
      if (state_[v] == State::kFrozen) Remove(e.node);
      return;
    case Kind::kAdopt:
      pending_.erase(std::remove(pending_.begin(), pending_.end(), e.node), pending_.end());
      Adopt(adoptions_[static_cast<size_t>(e.node)]);
      return;
  }
}

SimResult ForestModel::Run() {
  const double stream_rate = std::min(link_, uplink_) * (1 - p_.forest_headroom) / k_;
  double last_move = t_;
  while (remaining_ > 0 && t_ < 1e6) {
    while (!events_.empty() && events_.top().t <= t_ + 1e-9) {
      Event e = events_.top();
      events_.pop();
      Apply(e);
    }
    if (dirty_) Reorder();
    // The rings' limits, from the positions at the start of the step: the slowest stripe (the
    // consumer merges in order) and, per forwarded stripe, children and grandchildren (keep).
    for (int u = 0; u < n_; ++u) {
      double m = kInf;
      for (int s = 0; s < k_; ++s) m = std::min(m, pos_[F(s, u)]);
      cons_min_[static_cast<size_t>(u)] = m;
    }
    std::fill(child_min_.begin(), child_min_.end(), kInf);
    std::fill(keep_.begin(), keep_.end(), kInf);
    for (int u = 0; u < n_; ++u)
      for (const auto& [c, s] : kids_[static_cast<size_t>(u)])
        child_min_[F(s, u)] = std::min(child_min_[F(s, u)], pos_[F(s, c)]);
    for (int u = 0; u < n_; ++u)
      for (const auto& [c, s] : kids_[static_cast<size_t>(u)])
        keep_[F(s, u)] = std::min({keep_[F(s, u)], pos_[F(s, c)], child_min_[F(s, c)]});
    // Until they are adopted, a failed node's orphans still hold its parent's cursor (as the keep
    // rule held it for them): the parent can still serve them when they re-link.
    for (int i : pending_) {
      const Adoption& a = adoptions_[static_cast<size_t>(i)];
      for (const auto& [c, s] : a.orphans)
        if (int old = a.old_parent[static_cast<size_t>(s)]; old >= 0)
          keep_[F(s, old)] = std::min(keep_[F(s, old)], pos_[F(s, c)]);
    }
    // The sender: its flows share the uplink, each at most a stripe's share of a node's link.
    int sflows = std::max(1, SenderFlows());
    double sender_cap = std::min(link_ / k_, uplink_ / sflows) * dt_;
    double release = p_.forest_headroom > 0 ? std::min(ss_, stream_rate * (t_ + dt_ - p_.startup_s)) : ss_;

    bool moved = false;
    for (int s = 0; s < k_; ++s)
      for (int u : order_[static_cast<size_t>(s)]) {
        auto v = static_cast<size_t>(u);
        size_t f = F(s, u);
        if (state_[v] != State::kActive || pos_[f] >= ss_) continue;
        int par = parent_[f];
        double cap, avail;
        if (par == kSender) {
          cap = sender_cap;
          avail = branch_[f] ? ss_ : release;
        } else if (par >= 0 && state_[static_cast<size_t>(par)] == State::kActive) {
          auto pv = static_cast<size_t>(par);
          cap = link_ * dt_ / static_cast<double>(std::max<size_t>(static_cast<size_t>(k_), kids_[pv].size()));
          avail = pos_[F(s, par)];
        } else {
          continue;  // a frozen parent (or none) serves nothing
        }
        double limit = std::min(cons_min_[v], keep_[f]) + ring_;
        double old = pos_[f];
        double nw = std::min({old + cap, avail, limit, ss_});
        if (!(nw > old)) continue;
        pos_[f] = nw;
        moved = true;
        if (nw >= ss_) {
          stripe_done_[f] = t_ + dt_ * (ss_ - old) / (nw - old) + depth_[f] * hop_s_;
          if (++stripes_done_[v] == k_ && !failed_[v]) {
            double d = 0;
            for (int g = 0; g < k_; ++g) d = std::max(d, stripe_done_[F(g, u)]);
            done_[v] = d;
            --remaining_;
          }
        }
      }
    // Each node's longest stall: the time its in-order (consumer) position did not grow.
    for (int u = 0; u < n_; ++u) {
      auto v = static_cast<size_t>(u);
      if (state_[v] != State::kActive) continue;
      double m = kInf;
      for (int s = 0; s < k_; ++s) m = std::min(m, pos_[F(s, u)]);
      if (m > last_cons_[v]) {
        if (last_cons_[v] > 0) max_stall_[v] = std::max(max_stall_[v], t_ - last_growth_[v]);
        last_cons_[v] = m;
        last_growth_[v] = t_ + dt_;
      }
    }
    t_ += dt_;
    if (moved) last_move = t_;
    if (events_.empty() && t_ - last_move > p_.latency_s + 1.0) break;  // stuck for good
  }

  SimResult r;
  r.mode = "forest";
  r.stripes = k_;
  r.depth = max_depth_;
  r.overloads = overloads_;
  r.topology.chains = 0;
  r.topology.per_chain_bps = std::min(p_.link_bps, p_.uplink_bps > 0 ? p_.uplink_bps : p_.link_bps) / k_;
  r.dt = dt_;
  r.nodes.resize(un_);
  int branches = 0;
  for (size_t f = 0; f < branch_.size(); ++f) branches += branch_[f] != 0;
  for (size_t v = 0; v < un_; ++v) {
    r.nodes[v].done_s = done_[v];
    r.nodes[v].failed = failed_[v] != 0;
    r.nodes[v].max_stall_s = max_stall_[v];
    bool any = false;
    for (int s = 0; s < k_; ++s) any = any || branch_[F(s, static_cast<int>(v))] != 0;
    r.nodes[v].branch = any;
  }
  r.branches = branches;
  double last = -1;
  for (size_t v = 0; v < un_; ++v)
    if (!r.nodes[v].failed && r.nodes[v].done_s > last) {
      last = r.nodes[v].done_s;
      r.stall_s = max_stall_[v];
    }
  char why[160];
  std::snprintf(why, sizeof why,
                "forest: %d stripe(s), %d tree(s) of fan-out %d, %d deep, each stripe at 1/%d of the link", k_, k_, k_,
                max_depth_, k_);
  r.topology.why = why;
  ControlLoad(p_, n_, k_, &r);  // the k roots' link beats
  Summarize(p_, &r);
  return r;
}

}  // namespace

SimResult RunForest(const SimParams& p) {
  auto t0 = std::chrono::steady_clock::now();
  SimResult best;
  if (p.stripes > 0) {
    best = ForestModel(p, std::min(p.stripes, p.nodes)).Run();
  } else {
    // Automatic: the k in 2..8 (at most the nodes) with the least total; a run with survivors
    // stuck loses.
    std::string tried;
    bool have = false;
    for (int k = std::min(2, p.nodes); k <= std::min(8, p.nodes); ++k) {
      SimResult r = ForestModel(p, k).Run();
      char one[48];
      std::snprintf(one, sizeof one, "%sk=%d %.2f s%s", tried.empty() ? "" : ", ", k, r.total_s,
                    r.incomplete > 0  ? " (stuck)"
                    : r.overloads > 0 ? " (overloads)"
                                      : "");
      tried += one;
      bool better = !have || (r.incomplete > 0) < (best.incomplete > 0) ||
                    ((r.incomplete > 0) == (best.incomplete > 0) && r.total_s < best.total_s);
      if (better) best = std::move(r);
      have = true;
    }
    best.topology.why += "; chosen among " + tried;
  }
  best.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return best;
}

}  // namespace ka::sim
