#include "util/progress_ticker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace ka {
namespace {

TEST(NodeProgressTicker, TicksWhileAlive) {
  std::mutex mu;
  std::vector<double> seen;
  {
    ProgressTicker t(std::chrono::milliseconds(20), [&](double s) {
      std::lock_guard l(mu);
      seen.push_back(s);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(110));
  }
  std::lock_guard l(mu);
  ASSERT_GE(seen.size(), 3u);
  EXPECT_GE(seen.front(), 0.019);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_GT(seen[i], seen[i - 1]);
  size_t after = seen.size();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(seen.size(), after);  // none after destruction
}

TEST(NodeProgressTicker, AShortStepIsNeverMentioned) {
  std::atomic<int> n{0};
  {
    ProgressTicker t(std::chrono::seconds(10), [&](double) { ++n; });
  }
  EXPECT_EQ(n.load(), 0);
}

}  // namespace
}  // namespace ka
