#include "sim/sim.h"

#include <gtest/gtest.h>

namespace ka::sim {
namespace {

TEST(SimOptions, NodeEvents) {
  auto e = ParseNodeEvent("17@2.5", 100);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->node, 17);
  EXPECT_DOUBLE_EQ(e->at, 2.5);
  EXPECT_EQ(ParseNodeEvent("1@0", 1)->node, 1);
  for (const char* bad : {"17", "@2", "17@", "0@1", "101@1", "1.5@2", "a@1", "1@x", "1@-1", "1@2s"})
    EXPECT_FALSE(ParseNodeEvent(bad, 100).ok()) << bad;
}

TEST(SimOptions, ValidateNamesTheOption) {
  SimParams p;
  p.nodes = 10;
  p.size_bytes = 1e9;
  p.link_bps = 1e9;
  EXPECT_TRUE(Validate(p).ok());
  SimParams q = p;
  q.nodes = 0;
  EXPECT_NE(Validate(q).message().find("--nodes"), std::string::npos);
  q = p;
  q.swarm_efficiency = 1.5;
  EXPECT_NE(Validate(q).message().find("--swarm-efficiency"), std::string::npos);
  q = p;
  q.fail_rate = 2;
  EXPECT_NE(Validate(q).message().find("--fail-rate"), std::string::npos);
}

TEST(SimOptions, PlanLeavesLateJoinersOutOfTheFirstLayout) {
  SimParams p;
  p.nodes = 10;
  p.size_bytes = 1e9;
  p.link_bps = 1e9;
  p.uplink_bps = 2e9;
  p.lates = {{3, 1.0}, {4, 1.0}};
  chain::Topology t = Plan(p);
  EXPECT_EQ(t.chains, 2);
  EXPECT_EQ(t.lengths, (std::vector<int>{4, 4}));
}

}  // namespace
}  // namespace ka::sim
