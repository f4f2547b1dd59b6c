#include "chain/topology.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ka::chain {
namespace {

struct Rates {
  double link = 1, uplink = 1;
};

// Unknown rates: each defaults to the other; both unknown: equal (only their ratio matters here).
Rates Resolve(const TopologyInput& in) {
  Rates r;
  r.link = in.link_bps > 0 ? in.link_bps : in.uplink_bps;
  r.uplink = in.uplink_bps > 0 ? in.uplink_bps : in.link_bps;
  if (r.link <= 0) r.link = r.uplink = 1;
  return r;
}

int CeilDiv(int a, int b) { return (a + b - 1) / b; }

}  // namespace

// The time the last node of the longest chain needs, in the fluid picture the simulator refines:
//   T(K) = D + D * (1 - exp(-n * stall / D)),   D = S / min(link, uplink / K),
//                                               n = p * f * (ceil(N / K) - 1)
// - every chain is fed at min(link, uplink / K): the sender's uplink is shared by its K heads, and
//   no chain goes faster than a node's link (each node receives and forwards at most `link`);
// - a frozen node stalls every node after it in its chain by `stall` (detection + re-link,
//   docs/reliability.md); the last node of a chain of L nodes has L - 1 nodes before it, each
//   failing with probability p, a share f of them by freezing (a kill costs milliseconds): n
//   freezes, spread over the stream's D seconds;
// - freezes that overlap in time stall the last node once, not twice (the later relink waits for
//   the earlier one), so the expected stall is the expected length of the union of n intervals of
//   `stall` seconds placed at random over D: D (1 - exp(-n stall / D)); about n * stall while
//   freezes are rare, never more than D. (A plain sum, n * stall, is what a freeze costs when
//   freezes never overlap; `ka sim` shows even the union is pessimistic at 1 Gbit/s, where the
//   lag an earlier freeze left behind lets later ones pass partly unnoticed: 10,000 nodes, 10 GiB,
//   1 % failures, one chain: 17 s of stalls simulated, 50 s by this formula, 75 s by the sum.)
// Bits and bytes: S in bytes, rates in bits/s.
double TopologyCost(const TopologyInput& in, int chains) {
  Rates r = Resolve(in);
  int k = std::max(1, chains);
  double size = in.size_bytes > 0 ? in.size_bytes : kTopologyDefaultSize;
  double d = size * 8 / std::min(r.link, r.uplink / k);
  int longest = CeilDiv(std::max(in.nodes, 1), k);
  double n = std::max(0.0, in.fail_rate) * std::clamp(in.freeze_share, 0.0, 1.0) * (longest - 1);
  double stall = n * std::max(0.0, in.freeze_stall_s);
  return d + (d > 0 ? d * -std::expm1(-stall / d) : stall);
}

// Rules, in order:
// 1. Feed as many chains as the uplink carries at full node rate: K0 = floor(uplink / link), at
//    least 1, at most N. Fewer would leave uplink unused; each of these chains still runs at `link`.
// 2. More chains than K0 split the uplink, so every chain slows down (uplink / K < link); they pay
//    only if the stalls they save outweigh the rate they lose. Pick the K >= K0 minimising
//    TopologyCost (ties: the fewest chains). With stalls bounded by the union above this keeps K0
//    in every case we know of: going from K0 to K0 + 1 chains costs D / K0 of rate, while the
//    stalls saved are at most p f N stall / (K0 (K0 + 1)) when freezes are rare (less than D / K0
//    then) and nothing when they are frequent (the union is D either way). `ka sim` agrees: 10,000
//    nodes at 1 Gbit/s, 10 GiB, 5 % failures: one chain 122 s, two 175 s, four 345 s. The rule is
//    kept, computed, so that a better stall model (or measured stalls) can change the answer.
// 3. Operator overrides win: --chains fixes K (capped at N); --max-chain L forces K >= ceil(N / L)
//    (rule 2 then chooses among those).
// 4. Lengths as equal as possible (the first N mod K chains get one node more), each a
//    contiguous run of the locality order, so neighbours on a switch stay neighbours.
Topology PlanTopology(const TopologyInput& in) {
  Topology t;
  Rates r = Resolve(in);
  int n = in.nodes;
  if (n <= 0) {
    t.chains = 0;
    t.per_chain_bps = std::min(r.link, r.uplink);
    t.why = "no nodes";
    return t;
  }
  double ratio = r.uplink / r.link;
  int full = static_cast<int>(std::floor(ratio + 1e-9));
  full = std::clamp(full, 1, n);
  char buf[256];
  int k;
  if (in.chains > 0) {
    k = std::min(in.chains, n);
    std::snprintf(buf, sizeof buf, "%d chain(s) as asked (--chains %d)%s", k, in.chains,
                  in.chains > n ? ", at most one per node" : "");
  } else {
    int lower = full;
    if (in.max_chain > 0) lower = std::max(lower, CeilDiv(n, in.max_chain));
    k = lower;
    double best = TopologyCost(in, k);
    for (int c = lower + 1; c <= n; ++c) {
      double cost = TopologyCost(in, c);
      if (cost < best - 1e-9) {
        best = cost;
        k = c;
      }
      // Past the point where one chain holds one node, nothing can improve.
      if (CeilDiv(n, c) == 1) break;
    }
    if (k > lower)
      std::snprintf(buf, sizeof buf,
                    "%d chain(s): uplink/link = %.2f feeds %d at full rate; %d chains of <= %d cost less in "
                    "expected freeze stalls (%.1f s) than the slower feed",
                    k, ratio, full, k, CeilDiv(n, k), best);
    else if (in.max_chain > 0 && lower > full)
      std::snprintf(buf, sizeof buf, "%d chain(s): --max-chain %d over %d nodes (the uplink feeds %d at full rate)", k,
                    in.max_chain, n, full);
    else
      std::snprintf(buf, sizeof buf,
                    "%d chain(s): uplink/link = %.2f feeds %d chain(s) at full rate%s; more would slow every "
                    "chain more than it saves in expected freeze stalls",
                    k, ratio, full, full == n && ratio + 1e-9 >= n + 1 ? " (one per node)" : "");
  }
  t.chains = k;
  t.why = buf;
  t.per_chain_bps = std::min(r.link, r.uplink / k);
  t.lengths.assign(static_cast<size_t>(k), n / k);
  for (int i = 0; i < n % k; ++i) ++t.lengths[static_cast<size_t>(i)];
  return t;
}

std::vector<size_t> PlacementOrder(const std::vector<PlaceNode>& nodes) {
  std::vector<size_t> order(nodes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto speed = [&](size_t i) { return nodes[i].link_mbps ? nodes[i].link_mbps : UINT32_MAX; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (speed(a) != speed(b)) return speed(a) > speed(b);
    if (nodes[a].addr != nodes[b].addr) return nodes[a].addr < nodes[b].addr;
    return nodes[a].port < nodes[b].port;
  });
  return order;
}

int TopologyChainOf(const Topology& t, int index0) {
  if (index0 < 0) return -1;
  int start = 0;
  for (size_t c = 0; c < t.lengths.size(); ++c) {
    start += t.lengths[c];
    if (index0 < start) return static_cast<int>(c);
  }
  return -1;
}

}  // namespace ka::chain
