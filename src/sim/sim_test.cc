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

TEST(SimOptions, NodeEventsCarryTheirOwnDetectionAndRelink) {
  auto e = ParseNodeEvent("70@8/detect=1.473/relink=0.08", 100);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->node, 70);
  EXPECT_DOUBLE_EQ(e->at, 8);
  EXPECT_DOUBLE_EQ(e->detect_s, 1.473);
  EXPECT_DOUBLE_EQ(e->relink_s, 0.08);
  e = ParseNodeEvent("3@4/relink=0", 100);
  ASSERT_TRUE(e.ok());
  EXPECT_LT(e->detect_s, 0);  // not given: the session's --detect
  EXPECT_DOUBLE_EQ(e->relink_s, 0);
  EXPECT_LT(ParseNodeEvent("3@4", 100)->relink_s, 0);
  for (const char* bad :
       {"3@4/", "3@4/detect", "3@4/detect=", "3@4/detect=-1", "3@4/detect=x", "3@4/wait=1", "3@4/detect=1/detect=2",
        "3@4//relink=1", "3@4/relink=1/", "3@4/detect=1e9", "3@1e9", "3/detect=1@4"})
    EXPECT_FALSE(ParseNodeEvent(bad, 100).ok()) << bad;
  EXPECT_FALSE(ParseNodeEvent(std::string(300, '1'), 100).ok());
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
