#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <vector>

#include "sim/sim.h"
#include "sim/sim_test_util.h"

namespace ka::sim {
namespace {

using simtest::At;
using simtest::Base;
using simtest::kGbit;

std::vector<double> Delays(const SimParams& p) { return simtest::Delays(p, RunForest); }

TEST(ForestSim, NoFaultTotalIsStartupPlusTransferPlusDepthLatency) {
  for (int k : {2, 4, 8}) {
    SimParams p = Base(200, 2 * kGiB, kGbit, k);
    p.latency_s = 0.002;
    p.hop_bytes = 1 * kMiB;
    SimResult r = RunForest(p);
    EXPECT_EQ(r.mode, "forest");
    EXPECT_EQ(r.stripes, k);
    // The deepest entry of a k-ary heap of 200.
    int depth = 0;
    for (long i = 199; i >= 0; i = i == 0 ? -1 : (i - 1) / k) ++depth;
    EXPECT_EQ(r.depth, depth) << k;
    double want = p.startup_s + At(p.size_bytes, kGbit) + depth * (p.latency_s + p.hop_bytes / (kGbit / 8 / k));
    EXPECT_NEAR(r.total_s, want, 0.01 * want) << k << " stripes";
    EXPECT_EQ(r.survivors, 200);
    EXPECT_EQ(r.incomplete, 0);
    EXPECT_LT(r.stall_s, 0.05);
  }
}

TEST(ForestSim, UnevenGroupsStillRunEveryStripeAtItsShare) {
  // 1,000 nodes in 6 or 7 groups: some groups are one node short of their tree's interior; their
  // last leaves hang on spare slots elsewhere rather than overloading a node (which would slow a
  // whole stripe, and through the in-order consumer every node).
  for (int k : {6, 7}) {
    SimParams p = Base(1000, 1 * kGiB, kGbit, k);
    p.hop_bytes = 1 * kMiB;
    SimResult r = RunForest(p);
    double want = p.startup_s + At(p.size_bytes, kGbit) + r.depth * (p.latency_s + p.hop_bytes / (kGbit / 8 / k));
    EXPECT_NEAR(r.total_s, want, 0.01 * want) << k << " stripes";
    EXPECT_LE(r.depth, 6) << k;
  }
}

TEST(ForestSim, OneStripeIsOneChain) {
  for (int n : {1, 10, 100}) {
    SimParams p = Base(n, 1 * kGiB, kGbit, 1);
    p.hop_bytes = 1 * kMiB;
    p.wire_efficiency = 0.94;
    SimResult f = RunForest(p), c = RunChain(p);
    EXPECT_NEAR(f.total_s, c.total_s, 0.02 * c.total_s) << n << " nodes";
    EXPECT_NEAR(f.mean_s, c.mean_s, 0.02 * c.mean_s) << n << " nodes";
    EXPECT_EQ(f.depth, n);
  }
}

TEST(ForestSim, ALeafFailureCostsNobodyAnything) {
  // 101 nodes, 4 stripes: group 3 has 26 nodes, tree 3 needs 25 interior ones, so node 101 (the
  // last of group 3) forwards nothing in any tree.
  SimParams p = Base(101, 2 * kGiB, kGbit, 4);
  p.dt = 0.002;
  p.kills = {{101, 3.0}};
  std::vector<double> d = Delays(p);
  EXPECT_EQ(d[100], -1);
  for (int i = 0; i < 100; ++i) EXPECT_NEAR(d[static_cast<size_t>(i)], 0, 0.005) << "node " << i + 1;
  // A frozen leaf holds its parents' cursors until it is dropped: nothing lost while their rings
  // (buffer / k per stripe, buffer / link seconds) outlast the detection.
  p.kills.clear();
  p.freezes = {{101, 3.0}};
  p.buffer_bytes = 256 * kMiB;  // 2.1 s > 1.5 s
  d = Delays(p);
  for (int i = 0; i < 100; ++i) EXPECT_NEAR(d[static_cast<size_t>(i)], 0, 0.005) << "node " << i + 1;
}

// Tree 0 of 100 nodes and 4 stripes is the heap of nodes 1..100 in order (group 0 first): node 3
// (heap entry 2) forwards stripe 0 to entries 9..12 and they to 37..52.
std::set<int> SubtreeOfNode3() {
  std::set<int> s;
  for (int i = 9; i <= 12; ++i) s.insert(i);
  for (int i = 37; i <= 52; ++i) s.insert(i);
  return s;
}

TEST(ForestSim, AnInteriorFreezeDelaysOnlyItsSubtreeByDetectAndRelink) {
  SimParams p = Base(100, 2 * kGiB, kGbit, 4);
  p.dt = 0.002;
  p.buffer_bytes = 512 * kMiB;  // rings that outlast the detection: no stall passes between stripes
  p.freezes = {{3, 3.0}};
  const double cost = p.detect_s + p.relink_s;
  std::set<int> sub = SubtreeOfNode3();
  std::vector<double> d = Delays(p);
  EXPECT_EQ(d[2], -1);
  for (int i = 0; i < 100; ++i) {
    if (i == 2) continue;
    if (sub.count(i))
      EXPECT_NEAR(d[static_cast<size_t>(i)], cost, 0.01) << "node " << i + 1 << " (in the subtree)";
    else
      EXPECT_NEAR(d[static_cast<size_t>(i)], 0, 0.005) << "node " << i + 1;
  }
  SimResult r = RunForest(p);
  EXPECT_EQ(r.branches, 0);  // the freed slots' rings held the orphans' positions
  EXPECT_EQ(r.overloads, 0);
  EXPECT_EQ(r.incomplete, 0);

  // A kill is known at once: the subtree pays the re-link only.
  p.freezes.clear();
  p.kills = {{3, 3.0}};
  d = Delays(p);
  for (int i : sub) EXPECT_NEAR(d[static_cast<size_t>(i)], p.relink_s, 0.005) << "node " << i + 1;
}

TEST(ForestSim, HeadroomLetsAStalledStripeCatchUp) {
  SimParams p = Base(100, 4 * kGiB, kGbit, 4);
  p.dt = 0.002;
  p.buffer_bytes = 512 * kMiB;
  p.forest_headroom = 0.2;  // the stream at 0.8 x link: a lagging stripe gains 0.2 x link / k
  p.freezes = {{3, 3.0}};
  std::vector<double> d = Delays(p);
  // Lag 1.51 s x 0.8 caught back at 0.2: 6 s, well within the 43 s stream.
  for (int i : SubtreeOfNode3()) EXPECT_LT(d[static_cast<size_t>(i)], 0.05) << "node " << i + 1;
  SimResult r = RunForest(p);
  EXPECT_NEAR(r.total_s, p.startup_s + At(p.size_bytes, 0.8 * kGbit), 0.02 * r.total_s);
}

TEST(ForestSim, RingsShorterThanTheStallPassItToOtherStripes) {
  // The consumer merges the stripes in order: a node whose stripe 0 stalls stops taking the others
  // once their rings (buffer / k each) are full, and so stops forwarding its own stripe.
  SimParams p = Base(100, 2 * kGiB, kGbit, 4);
  p.dt = 0.002;
  p.buffer_bytes = 32 * kMiB;  // 0.27 s at 1 Gbit/s
  p.freezes = {{3, 3.0}};
  std::vector<double> d = Delays(p);
  int delayed = 0;
  for (int i = 0; i < 100; ++i)
    if (i != 2 && d[static_cast<size_t>(i)] > 0.5) ++delayed;
  EXPECT_GT(delayed, 20);  // more than its 20-node subtree
}

TEST(ForestSim, AnOrphanLaggingBeyondEveryFreedRingOverloadsAnAncestor) {
  // 5 % failures (seed 4: found by trying seeds): a second freeze inside a subtree that already
  // lags (no headroom: it never catches up) leaves orphans further behind the freed slots than
  // their rings reach. With no spare uplink for a branch, an ancestor takes them beyond its k
  // flows, and its stripe (through every consumer, every node) slows to the end.
  SimParams p = Base(300, 2 * kGiB, kGbit, 2);
  p.buffer_bytes = 256 * kMiB;
  p.fail_rate = 0.05;
  p.seed = 4;
  SimResult r = RunForest(p);
  EXPECT_GT(r.overloads, 0);
  EXPECT_EQ(r.branches, 0);
  EXPECT_EQ(r.incomplete, 0);
  const double clean = p.startup_s + At(p.size_bytes, kGbit);
  EXPECT_GT(r.total_s, 1.2 * clean);
  p.uplink_bps = 2 * kGbit;  // spare uplink: a sender branch instead, and nobody slows down
  r = RunForest(p);
  EXPECT_EQ(r.overloads, 0);
  EXPECT_GT(r.branches, 0);
  EXPECT_LT(r.total_s, clean + 2.5);  // a freeze or two on some stripe path: 1.51 s each
}

TEST(ForestSim, AutomaticStripesPickTheFastest) {
  SimParams p = Base(300, 1 * kGiB, kGbit, 0);
  p.hop_bytes = 1 * kMiB;
  p.fail_rate = 0.02;
  SimResult best = RunForest(p);
  EXPECT_GE(best.stripes, 2);
  EXPECT_LE(best.stripes, 8);
  for (int k = 2; k <= 8; ++k) {
    p.stripes = k;
    EXPECT_LE(best.total_s, RunForest(p).total_s + 1e-9) << k;
  }
}

TEST(ForestSim, TenThousandNodesTenGigabytesRuns) {
  SimParams p = Base(10000, 10 * kGiB, kGbit, 4);
  p.uplink_bps = 10 * kGbit;
  p.fail_rate = 0.01;
  p.hop_bytes = 1 * kMiB;
  SimResult r = RunForest(p);
  std::printf("10,000 nodes x 10 GiB, 4 stripes, 1%% failures: forest model %.2f s wall (simulated %.1f s, dt %.3f)\n",
              r.wall_s, r.total_s, r.dt);
  EXPECT_EQ(r.survivors, 9900);
  EXPECT_EQ(r.incomplete, 0);
  EXPECT_GT(r.total_s, r.ideal_s);
}

}  // namespace
}  // namespace ka::sim
