#include "chain/forest_plan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace ka::chain {
namespace {

TEST(ForestPlan, SevenNodesTwoStripes) {
  // Groups {0, 1, 2} and {3, 4, 5, 6}. Tree 0: 0 | 1 2 | 3 4 5 6; tree 1: 3 | 4 5 | 6 0 1 2.
  ForestPlan p = PlanForest(7, 2);
  ASSERT_EQ(p.stripes, 2);
  std::vector<int> tree0 = {kForestSender, 0, 0, 1, 1, 2, 2};
  std::vector<int> tree1 = {4, 5, 5, kForestSender, 3, 3, 4};
  for (int u = 0; u < 7; ++u) {
    EXPECT_EQ(p.Parent(0, u), tree0[static_cast<size_t>(u)]) << "stripe 0, node " << u;
    EXPECT_EQ(p.Parent(1, u), tree1[static_cast<size_t>(u)]) << "stripe 1, node " << u;
  }
  EXPECT_TRUE(p.children[6].empty());  // a leaf everywhere
  EXPECT_EQ(p.Depth(1, 2), 3);         // 3 -> 5 -> 2
}

TEST(ForestPlan, OneStripeIsOneChain) {
  ForestPlan p = PlanForest(5, 1);
  EXPECT_EQ(p.Parent(0, 0), kForestSender);
  for (int u = 1; u < 5; ++u) EXPECT_EQ(p.Parent(0, u), u - 1);
  EXPECT_EQ(p.Depth(0, 4), 5);
}

TEST(ForestPlan, StripesAreClampedToTheNodes) {
  EXPECT_EQ(PlanForest(3, 8).stripes, 3);
  EXPECT_EQ(PlanForest(3, 0).stripes, 1);
  ForestPlan empty = PlanForest(0, 4);
  EXPECT_EQ(empty.stripes, 0);
  EXPECT_TRUE(empty.parent.empty());
}

// Every tree spans every node once from one root, no node forwards more than k flows, the
// children lists match the parents, and the trees are about log_k N deep.
TEST(ForestPlan, EveryTreeSpansTheNodesWithinKFlowsANode) {
  for (int n : {1, 2, 3, 5, 7, 10, 31, 100, 1000, 4099}) {
    for (int k = 1; k <= 8 && k <= n; ++k) {
      ForestPlan p = PlanForest(n, k);
      ASSERT_EQ(p.stripes, k);
      ASSERT_EQ(p.parent.size(), static_cast<size_t>(n) * k);
      std::vector<int> flows(static_cast<size_t>(n), 0);
      for (int s = 0; s < k; ++s) {
        int roots = 0, deepest = 0;
        for (int u = 0; u < n; ++u) {
          int par = p.Parent(s, u);
          ASSERT_TRUE(par == kForestSender || (par >= 0 && par < n && par != u)) << n << "/" << k;
          if (par == kForestSender)
            ++roots;
          else
            ++flows[static_cast<size_t>(par)];
          int d = p.Depth(s, u);
          ASSERT_LE(d, n) << "a cycle: n " << n << ", k " << k << ", stripe " << s << ", node " << u;
          deepest = std::max(deepest, d);
        }
        EXPECT_EQ(roots, 1) << n << "/" << k << " stripe " << s;
        if (k >= 2) {
          int bound = static_cast<int>(std::ceil(std::log(static_cast<double>(n)) / std::log(k))) + 2;
          EXPECT_LE(deepest, bound) << n << "/" << k << " stripe " << s;
        }
      }
      for (int u = 0; u < n; ++u) {
        const auto& kids = p.children[static_cast<size_t>(u)];
        EXPECT_LE(kids.size(), static_cast<size_t>(k)) << n << "/" << k << " node " << u;
        EXPECT_EQ(static_cast<int>(kids.size()), flows[static_cast<size_t>(u)]);
        for (const auto& [c, s] : kids) EXPECT_EQ(p.Parent(s, c), u);
      }
    }
  }
}

// A node forwards in its own group's tree; in another only the leaves a short group left over.
TEST(ForestPlan, ANodeIsInteriorInItsOwnGroupsTree) {
  const int n = 1000, k = 4;
  ForestPlan p = PlanForest(n, k);
  for (int u = 0; u < n; ++u) {
    int group = static_cast<int>(static_cast<int64_t>(u) * k / n);
    while (static_cast<int64_t>(n) * (group + 1) / k <= u) ++group;
    while (static_cast<int64_t>(n) * group / k > u) --group;
    for (const auto& [c, s] : p.children[static_cast<size_t>(u)]) EXPECT_EQ(s, group) << "node " << u;
  }
}

}  // namespace
}  // namespace ka::chain
