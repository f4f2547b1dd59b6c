#include "util/log_limiter.h"

#include <gtest/gtest.h>

namespace ka {
namespace {

using std::chrono::milliseconds;

TEST(LogLimiter, BurstThenCountsThenReportsTheCount) {
  LogLimiter lim(3, 10);
  auto t0 = std::chrono::steady_clock::now();
  uint64_t dropped = 99;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(lim.AllowAt("refused", t0 + milliseconds(i), &dropped));
    EXPECT_EQ(dropped, 0u);
  }
  for (int i = 0; i < 500; ++i) EXPECT_FALSE(lim.AllowAt("refused", t0 + milliseconds(10 + i), &dropped));
  // Another kind has its own budget.
  EXPECT_TRUE(lim.AllowAt("other", t0 + milliseconds(600), &dropped));
  EXPECT_EQ(dropped, 0u);
  // The next window lets one through and says how many were left out.
  EXPECT_TRUE(lim.AllowAt("refused", t0 + milliseconds(10001), &dropped));
  EXPECT_EQ(dropped, 500u);
  EXPECT_TRUE(lim.AllowAt("refused", t0 + milliseconds(10002), &dropped));
  EXPECT_EQ(dropped, 0u);
}

TEST(LogLimiter, ManyKindsStayBounded) {
  LogLimiter lim(1, 10);
  uint64_t d = 0;
  for (int i = 0; i < 5000; ++i) EXPECT_TRUE(lim.Allow("kind" + std::to_string(i), &d));
}

}  // namespace
}  // namespace ka
