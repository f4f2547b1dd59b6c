#include "chain/bottleneck.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

namespace ka::chain {
namespace {

// Feeds `node` counters growing by `per_s` each second (output, child, keep) from t = 0 to `until`.
void Feed(BottleneckJudge& j, uint64_t node, HeldCounters per_s, double until = 4, double every = 0.25) {
  for (double t = 0; t <= until + 1e-9; t += every)
    j.Observe(node, t, {per_s.output * t, per_s.child * t, per_s.keep * t});
}

TEST(BottleneckJudge, NobodyHeldNoVerdict) {
  BottleneckJudge j(3.0, 0.5);
  for (uint64_t n : {1, 2, 3}) Feed(j, n, {});
  Feed(j, BottleneckJudge::SenderOf(0), {});
  EXPECT_TRUE(j.Judge(0, {1, 2, 3}, 4).empty());
}

// Node 2 writes slowly: its output holds its ring; its parent waits on it (child), the head waits
// on node 1 in turn, and the sender on the head. Only node 2 is blamed, for its output.
TEST(BottleneckJudge, ASlowOutputIsBlamedNotTheNodesItHolds) {
  BottleneckJudge j(3.0, 0.5);
  Feed(j, BottleneckJudge::SenderOf(0), {0, 0.9, 0});
  Feed(j, 1, {0, 0.9, 0});
  Feed(j, 2, {0.8, 0, 0});
  Feed(j, 3, {});
  auto v = j.Judge(0, {1, 2, 3}, 4);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].node, 2u);
  EXPECT_EQ(v[0].cause, HoldCause::kOutput);
  EXPECT_NEAR(v[0].share, 0.8, 1e-9);
  EXPECT_GE(v[0].window, 3);
}

// Node 3 receives slowly (a slower or busier link): node 2 waits on it while node 3's own ring
// has room. Node 1 waits on node 2, whose ring is full: node 2 is not blamed.
TEST(BottleneckJudge, ASlowLinkIsBlamedOnTheNodeWhoseRingHasRoom) {
  BottleneckJudge j(3.0, 0.5);
  Feed(j, BottleneckJudge::SenderOf(0), {0, 0.95, 0});
  Feed(j, 1, {0, 0, 0.9});  // its keep cursor (node 3's position) holds its tail
  Feed(j, 2, {0, 0.95, 0});
  Feed(j, 3, {0, 0, 0});
  Feed(j, 4, {});
  auto v = j.Judge(0, {1, 2, 3, 4}, 4);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].node, 3u);
  EXPECT_EQ(v[0].cause, HoldCause::kLink);
  EXPECT_NEAR(v[0].share, 0.95, 1e-9);
  EXPECT_STREQ(HoldCauseName(v[0].cause), "link");
}

TEST(BottleneckJudge, TheHeadIsJudgedByTheSendersRing) {
  BottleneckJudge j(3.0, 0.5);
  Feed(j, BottleneckJudge::SenderOf(1), {0, 0.7, 0});
  Feed(j, BottleneckJudge::SenderOf(0), {0, 0.7, 0});  // another chain's: not this one's
  Feed(j, 10, {});
  Feed(j, 11, {});
  auto v = j.Judge(1, {10, 11}, 4);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].node, 10u);
  EXPECT_EQ(v[0].cause, HoldCause::kLink);
  BottleneckJudge k(3.0, 0.5);
  Feed(k, BottleneckJudge::SenderOf(0), {0, 0.7, 0});
  Feed(k, 10, {});
  EXPECT_TRUE(k.Judge(1, {10}, 4).empty());  // chain 1's own sender share is unknown
}

TEST(BottleneckJudge, BelowTheShareOrTheWindowNoVerdict) {
  BottleneckJudge j(3.0, 0.5);
  Feed(j, 1, {0.4, 0, 0});  // held 40 % of the time: a busy disk, not the bottleneck
  EXPECT_TRUE(j.Judge(0, {1}, 4).empty());
  BottleneckJudge k(3.0, 0.5);
  Feed(k, 1, {0.9, 0, 0}, 2.5);  // not a whole window yet
  EXPECT_TRUE(k.Judge(0, {1}, 2.5).empty());
  Feed(k, 1, {0.9, 0, 0}, 3.0);
  EXPECT_EQ(k.Judge(0, {1}, 3.0).size(), 1u);
}

TEST(BottleneckJudge, ANodeThatStoppedReportingGetsNoVerdict) {
  BottleneckJudge j(3.0, 0.5);
  Feed(j, 1, {0.9, 0, 0});
  EXPECT_EQ(j.Judge(0, {1}, 4).size(), 1u);
  EXPECT_TRUE(j.Judge(0, {1}, 30).empty());  // its last report is 26 s old
  j.Forget(1);
  EXPECT_TRUE(j.Judge(0, {1}, 4).empty());
}

// Only the last window counts: a node that was slow and is no longer is not blamed.
TEST(BottleneckJudge, OnlyTheLastWindowCounts) {
  BottleneckJudge j(3.0, 0.5);
  for (double t = 0; t <= 10 + 1e-9; t += 0.25) j.Observe(1, t, {std::min(t, 5.0) * 0.9, 0, 0});
  EXPECT_TRUE(j.Judge(0, {1}, 10).empty());
}

// The default window, 5 s: a re-linked child catching up for about the freeze detection (1.5 s)
// holds its parent less than half of it; a child slower for good does.
TEST(BottleneckJudge, ACatchUpAfterAFreezeIsNotABottleneck) {
  BottleneckJudge j;
  for (double t = 0; t <= 10 + 1e-9; t += 0.25) {
    j.Observe(BottleneckJudge::SenderOf(0), t, {});
    j.Observe(1, t, {0, std::clamp(t - 5, 0.0, 1.5), 0});  // held by node 2 from 5 s to 6.5 s
    j.Observe(2, t, {});
    EXPECT_TRUE(j.Judge(0, {1, 2}, t).empty()) << t;
  }
  for (double t = 10.25; t <= 16 + 1e-9; t += 0.25) {
    j.Observe(BottleneckJudge::SenderOf(0), t, {});
    j.Observe(1, t, {0, 1.5 + 0.9 * (t - 10), 0});  // from 10 s on, 90 % of the time
    j.Observe(2, t, {});
  }
  auto v = j.Judge(0, {1, 2}, 16);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].node, 2u);
  EXPECT_GE(v[0].window, 5);
}

// A peer's numbers: counters that go back, times that stand still, NaN or negative ones never
// make a verdict out of thin air; the history starts again.
TEST(BottleneckJudge, InconsistentCountersStartTheHistoryAgain) {
  BottleneckJudge j(3.0, 0.5);
  Feed(j, 1, {0.9, 0, 0});
  j.Observe(1, 4.25, {0, 0, 0});  // went back
  EXPECT_TRUE(j.Judge(0, {1}, 4.25).empty());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  BottleneckJudge k(3.0, 0.5);
  Feed(k, 1, {0.9, 0, 0});
  k.Observe(1, 4.5, {nan, 0, 0});
  k.Observe(1, 4.5, {inf, 0, 0});
  k.Observe(1, 4.5, {-1, 0, 0});
  k.Observe(1, nan, {5, 0, 0});
  auto v = k.Judge(0, {1}, 4.5);
  ASSERT_EQ(v.size(), 1u);  // the bad samples were ignored
  EXPECT_LE(v[0].share, 1.0);
  k.Observe(1, 4.5, {1e300, 0, 0});  // absurd growth is at most the whole window
  v = k.Judge(0, {1}, 4.5);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_LE(v[0].share, 1.0);
}

}  // namespace
}  // namespace ka::chain
