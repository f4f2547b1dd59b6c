#include "chain/freeze_detector.h"

#include <gtest/gtest.h>

namespace ka::chain {
namespace {

using Clock = FreezeDetector::Clock;
Clock::time_point T(double s) { return Clock::time_point() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); }

TEST(FreezeDetector, UntilItHasLearnedTheMaximumApplies) {
  FreezeDetector d(1.5, 4, T(0));
  EXPECT_EQ(d.Timeout(), 4);
  for (int i = 0; i < 2; ++i) d.Heartbeat(T(i * 0.25));  // one gap: not enough yet
  EXPECT_EQ(d.Timeout(), 4);
  d.Heartbeat(T(0.5));
  EXPECT_DOUBLE_EQ(d.Timeout(), 1.5);
  d = FreezeDetector(1.5, 4, T(0));
  EXPECT_FALSE(d.Frozen(T(3.9)));
  EXPECT_TRUE(d.Frozen(T(4.1)));
}

TEST(FreezeDetector, AQuietNodeIsDroppedQuickly) {
  FreezeDetector d(1.5, 4, T(0));
  for (int i = 0; i <= 20; ++i) d.Heartbeat(T(i * 0.25));
  EXPECT_DOUBLE_EQ(d.Timeout(), 1.5);  // 4 x 0.25 s is under the floor
  EXPECT_FALSE(d.Frozen(T(5 + 1.4)));
  EXPECT_TRUE(d.Frozen(T(5 + 1.6)));
}

TEST(FreezeDetector, ALoadedNodeGetsTheTimeItsLoadNeeds) {
  FreezeDetector d(1.5, 4, T(0));
  double t = 0;
  for (int i = 0; i < 20; ++i) d.Heartbeat(T(t += (i % 5 == 0 ? 0.8 : 0.25)));  // late beats under load
  EXPECT_DOUBLE_EQ(d.Timeout(), 3.2);
  EXPECT_FALSE(d.Frozen(T(t + 3.1)));
  EXPECT_TRUE(d.Frozen(T(t + 3.3)));
  EXPECT_DOUBLE_EQ(d.max_gap(), 0.8);
}

TEST(FreezeDetector, NeverBeyondTheOperatorsTimeout) {
  FreezeDetector d(1.5, 4, T(0));
  double t = 0;
  for (int i = 0; i < 20; ++i) d.Heartbeat(T(t += 2));
  EXPECT_DOUBLE_EQ(d.Timeout(), 4);
}

TEST(FreezeDetector, AnyMessageIsAliveButOnlyHeartbeatsTeachTheRhythm) {
  FreezeDetector d(1.5, 4, T(0));
  for (int i = 0; i <= 20; ++i) d.Heartbeat(T(i * 0.25));
  d.Heard(T(6));
  EXPECT_FALSE(d.Frozen(T(7)));
  EXPECT_DOUBLE_EQ(d.Timeout(), 1.5);
}

TEST(FreezeDetector, TimeTheObserverCouldNotListenIsExcused) {
  FreezeDetector d(1.5, 4, T(0));
  for (int i = 0; i <= 20; ++i) d.Heartbeat(T(i * 0.25));  // last word at 5.0 s, timeout 1.5 s
  EXPECT_TRUE(d.Frozen(T(7)));
  d.Excuse(1.0, T(7));  // the observer had no CPU for a second of those two
  EXPECT_FALSE(d.Frozen(T(7)));
  EXPECT_DOUBLE_EQ(d.Silence(T(7)), 1.0);
  EXPECT_TRUE(d.Frozen(T(7.6)));  // excused time is not a pardon: real silence still counts
  d.Excuse(10, T(8));             // never moves the last word past now
  EXPECT_DOUBLE_EQ(d.Silence(T(8)), 0);
  d.Excuse(-1, T(8));  // a check on time excuses nothing
  EXPECT_DOUBLE_EQ(d.Silence(T(9)), 1.0);
}

TEST(FreezeDetector, OldGapsAreForgotten) {
  FreezeDetector d(1.5, 4, T(0));
  double t = 0;
  d.Heartbeat(T(t));
  d.Heartbeat(T(t += 0.9));  // one slow moment at the start
  for (int i = 0; i < 50; ++i) d.Heartbeat(T(t += 0.25));
  EXPECT_DOUBLE_EQ(d.Timeout(), 1.5);
  EXPECT_DOUBLE_EQ(d.max_gap(), 0.9);
}

}  // namespace
}  // namespace ka::chain
