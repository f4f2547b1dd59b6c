#include "chain/topology.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace ka::chain {
namespace {

constexpr double kG = 1e9;

int Sum(const Topology& t) { return std::accumulate(t.lengths.begin(), t.lengths.end(), 0); }

TopologyInput Input(int nodes, double link, double uplink) {
  TopologyInput in;
  in.nodes = nodes;
  in.link_bps = link;
  in.uplink_bps = uplink;
  return in;
}

TEST(Topology, EightNodesOnEqualLinksMakeOneChain) {
  Topology t = PlanTopology(Input(8, kG, kG));
  EXPECT_EQ(t.chains, 1);
  EXPECT_EQ(t.lengths, std::vector<int>{8});
  EXPECT_DOUBLE_EQ(t.per_chain_bps, kG);
  EXPECT_FALSE(t.why.empty());
}

TEST(Topology, TenGigabitUplinkFeedsTenChainsOfOneGigabitNodes) {
  Topology t = PlanTopology(Input(1000, kG, 10 * kG));
  EXPECT_EQ(t.chains, 10);
  EXPECT_EQ(t.lengths, std::vector<int>(10, 100));
  EXPECT_DOUBLE_EQ(t.per_chain_bps, kG);
}

TEST(Topology, UnknownRatesDefaultToEachOther) {
  EXPECT_EQ(PlanTopology(Input(50, 0, 10 * kG)).chains, 1);
  EXPECT_EQ(PlanTopology(Input(50, kG, 0)).chains, 1);
  EXPECT_EQ(PlanTopology(Input(50, 0, 0)).chains, 1);
  EXPECT_EQ(PlanTopology(Input(50, 2.5e9, 10 * kG)).chains, 4);  // floor(10 / 2.5)
  EXPECT_EQ(PlanTopology(Input(50, 3e9, 10 * kG)).chains, 3);    // floor, not round
}

TEST(Topology, OperatorOverridesWin) {
  TopologyInput in = Input(1000, kG, 10 * kG);
  in.chains = 3;
  Topology t = PlanTopology(in);
  EXPECT_EQ(t.chains, 3);
  EXPECT_EQ(t.lengths, (std::vector<int>{334, 333, 333}));
  EXPECT_NEAR(t.per_chain_bps, kG, 1);  // 10/3 Gbit/s each, capped by the node link

  in.chains = 0;
  in.max_chain = 30;  // ceil(1000 / 30) = 34 chains, each fed at 10/34 Gbit/s
  t = PlanTopology(in);
  EXPECT_EQ(t.chains, 34);
  EXPECT_EQ(Sum(t), 1000);
  for (int l : t.lengths) EXPECT_LE(l, 30);
  EXPECT_NEAR(t.per_chain_bps, 10 * kG / 34, 1);

  in.max_chain = 500;  // looser than the automatic answer: no change
  EXPECT_EQ(PlanTopology(in).chains, 10);

  in.chains = 5;  // --chains wins over --max-chain
  EXPECT_EQ(PlanTopology(in).chains, 5);
}

TEST(Topology, FewerNodesThanChainsGivesOneNodePerChain) {
  Topology t = PlanTopology(Input(3, kG, 10 * kG));
  EXPECT_EQ(t.chains, 3);
  EXPECT_EQ(t.lengths, (std::vector<int>{1, 1, 1}));
  TopologyInput in = Input(2, kG, kG);
  in.chains = 7;
  t = PlanTopology(in);
  EXPECT_EQ(t.chains, 2);
  EXPECT_EQ(t.lengths, (std::vector<int>{1, 1}));
}

TEST(Topology, NoZeroLengthChainsAndLengthsDifferByAtMostOne) {
  for (int n : {1, 2, 7, 99, 100, 101, 1001, 9999}) {
    for (int k : {0, 1, 3, 10, 64}) {
      TopologyInput in = Input(n, kG, 10 * kG);
      in.chains = k;
      Topology t = PlanTopology(in);
      ASSERT_EQ(static_cast<int>(t.lengths.size()), t.chains);
      EXPECT_EQ(Sum(t), n);
      int lo = *std::min_element(t.lengths.begin(), t.lengths.end());
      int hi = *std::max_element(t.lengths.begin(), t.lengths.end());
      EXPECT_GE(lo, 1) << n << " nodes, --chains " << k;
      EXPECT_LE(hi - lo, 1) << n << " nodes, --chains " << k;
    }
  }
  Topology none = PlanTopology(Input(0, kG, kG));
  EXPECT_EQ(none.chains, 0);
  EXPECT_TRUE(none.lengths.empty());
}

TEST(Topology, MoreChainsOnlyWhenExpectedStallsOutweighTheLostRate) {
  // Expected stalls are the union of n freezes of `stall` seconds over the stream: about n * stall
  // while rare, never more than the stream's duration.
  TopologyInput in = Input(10000, kG, kG);
  double d = kTopologyDefaultSize * 8 / kG;
  double n = 0.01 * 0.5 * 9999;
  EXPECT_NEAR(TopologyCost(in, 1), d + d * (1 - std::exp(-n * 2 / d)), 1e-6);
  in.nodes = 11;  // 0.05 freezes: the union is the sum
  EXPECT_NEAR(TopologyCost(in, 1), d + 0.01 * 0.5 * 10 * 2, 1e-3);
  in.nodes = 10000;
  in.fail_rate = 0.5;  // half the nodes fail: the whole stream is stalled once, not 2,500 times
  EXPECT_NEAR(TopologyCost(in, 1), 2 * d, 1e-3);
  // Splitting the uplink never pays under this model (the simulator agrees: sim/chain_sim_test.cc):
  // not with 10,000 nodes, not with 5 % failures, not with a small stream.
  for (double rate : {0.01, 0.05, 0.2})
    for (double size : {0.0, 1e8}) {
      in.fail_rate = rate;
      in.size_bytes = size;
      Topology t = PlanTopology(in);
      EXPECT_EQ(t.chains, 1) << rate << " " << size;
      EXPECT_LE(TopologyCost(in, 1), TopologyCost(in, 2));
    }
  // The cost does pick the fewest of equal choices, and a larger K when it is cheaper: with no
  // rate lost (a chain is fed at `link` until K > uplink / link), more chains cost nothing extra.
  TopologyInput wide = Input(1000, kG, 10 * kG);
  wide.fail_rate = 0.2;
  EXPECT_LT(TopologyCost(wide, 10), TopologyCost(wide, 5));
  EXPECT_EQ(PlanTopology(wide).chains, 10);
}

TEST(Topology, ChainOfFollowsTheLengths) {
  Topology t;
  t.chains = 3;
  t.lengths = {3, 2, 2};
  EXPECT_EQ(TopologyChainOf(t, 0), 0);
  EXPECT_EQ(TopologyChainOf(t, 2), 0);
  EXPECT_EQ(TopologyChainOf(t, 3), 1);
  EXPECT_EQ(TopologyChainOf(t, 4), 1);
  EXPECT_EQ(TopologyChainOf(t, 5), 2);
  EXPECT_EQ(TopologyChainOf(t, 6), 2);
  EXPECT_EQ(TopologyChainOf(t, 7), -1);
  EXPECT_EQ(TopologyChainOf(t, -1), -1);
}

}  // namespace
}  // namespace ka::chain

namespace ka::chain {
namespace {

TEST(Placement, AddressOrderWhenEveryLinkIsAlike) {
  std::vector<PlaceNode> n = {
      {0x0A000003, 1, 1000}, {0x0A000001, 1, 1000}, {0x0A000002, 2, 1000}, {0x0A000002, 1, 1000}};
  EXPECT_EQ(PlacementOrder(n), (std::vector<size_t>{1, 3, 2, 0}));
}

TEST(Placement, SlowerLinksGoLastAndUnknownCountsAsFast) {
  std::vector<PlaceNode> n = {{0x0A000001, 1, 100}, {0x0A000002, 1, 1000}, {0x0A000003, 1, 0},
                              {0x0A000004, 1, 100}, {0x0A000005, 1, 1000}, {0x0A000006, 1, 10000}};
  // unknown (0) first, then 10G, 1G by address, 100M by address: the slow pair is the tail.
  EXPECT_EQ(PlacementOrder(n), (std::vector<size_t>{2, 5, 1, 4, 0, 3}));
  EXPECT_TRUE(PlacementOrder({}).empty());
}

}  // namespace
}  // namespace ka::chain
