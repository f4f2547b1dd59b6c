#include "golden/zstd_tuning.h"

#include <gtest/gtest.h>

#include "testing/fake_env.h"

#include <random>

namespace ka::golden {
namespace {

// A text-like sample: higher levels compress it better, and slower.
std::vector<LevelSample> Typical() {
  return {{1, 400, 0.40}, {3, 250, 0.36}, {5, 120, 0.34}, {7, 80, 0.33}, {9, 50, 0.32}, {12, 20, 0.31}};
}

TEST(ZstdTuning, SlowLinkGetsTheHighestLevelThatKeepsUp) {
  // 10 Mbit/s (1.2 MiB/s): every level outruns it; the fewest bytes win.
  EXPECT_EQ(ChooseZstdLevel(Typical(), 1, 1.19).level, 12);
}

TEST(ZstdTuning, FastLinkGetsAFastLevel) {
  // 10 Gbit/s (1192 MiB/s) on one thread: compression is the bound; level 1 is fastest.
  EXPECT_EQ(ChooseZstdLevel(Typical(), 1, 1192).level, 1);
}

TEST(ZstdTuning, GigabitWithTwoThreads) {
  // 119 MiB/s, 1.85 threads' worth. Per MiB of input: level 1 compresses in 1.4 ms, the link
  // needs 3.4 ms; level 3: 2.2 ms and 3.0 ms; level 5: 4.5 ms (compression-bound) and 2.9 ms.
  ZstdChoice c = ChooseZstdLevel(Typical(), 2, 119);
  EXPECT_EQ(c.level, 3);
  EXPECT_EQ(c.threads, 2);
  EXPECT_NE(c.why.find("level 3"), std::string::npos);
}

TEST(ZstdTuning, MoreThreadsAllowAHigherLevel) {
  EXPECT_GT(ChooseZstdLevel(Typical(), 16, 119).level, ChooseZstdLevel(Typical(), 1, 119).level);
}

TEST(ZstdTuning, NearTiesGoToTheCheaperLevel) {
  // Incompressible data: every level gives ~1.0, the link is the bound for all: level 1.
  std::vector<LevelSample> flat{{1, 900, 1.0}, {3, 600, 0.999}, {9, 300, 0.998}};
  EXPECT_EQ(ChooseZstdLevel(flat, 2, 119).level, 1);
}

TEST(ZstdTuning, NoSampleMeansLevelThree) {
  EXPECT_EQ(ChooseZstdLevel({}, 4, 119).level, 3);
  EXPECT_EQ(ChooseZstdLevel(Typical(), 4, 0).level, 3);
}

TEST(ZstdTuning, MeasuresEveryLevelOnRealData) {
  std::string text;
  std::mt19937 rng(7);
  while (text.size() < (1 << 20)) text += "line " + std::to_string(rng() % 1000) + " of some text\n";
  auto s = MeasureZstdLevels(text, {1, 9});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].level, 1);
  EXPECT_GT(s[0].mib_s, 0);
  EXPECT_LT(s[0].ratio, 0.5);
  EXPECT_LE(s[1].ratio, s[0].ratio);
  EXPECT_TRUE(MeasureZstdLevels("", {1}).empty());
}

}  // namespace
}  // namespace ka::golden

namespace ka::golden {
namespace {
TEST(ZstdTuning, SlowerThanTheLink) {
  EXPECT_FALSE(SlowerThanTheLink({1, 400, 0.4}, 1, 119));  // 160 MiB/s of wire
  EXPECT_TRUE(SlowerThanTheLink({9, 50, 0.32}, 1, 119));   // 16 MiB/s
  EXPECT_FALSE(SlowerThanTheLink({9, 50, 0.32}, 32, 119)); // 32 threads: 428 MiB/s
}
// The fastest interface that is up and says its speed; loopback, down links and
// virtual ones (no speed) do not count.
TEST(ZstdTuning, LocalLinkIsTheFastestUpInterfaceThatSaysItsSpeed) {
  os::FakeEnv env;
  EXPECT_EQ(LocalLinkMibPerSecond(env), 0.0);  // no /sys/class/net
  auto link = [&env](const std::string& name, const std::string& state, const std::string& speed) {
    env.AddFile("/sys/class/net/" + name + "/operstate", state + "\n");
    if (!speed.empty()) env.AddFile("/sys/class/net/" + name + "/speed", speed + "\n");
  };
  link("lo", "unknown", "40000");
  link("eth0", "up", "1000");
  link("eth1", "down", "10000");
  link("br0", "up", "");
  link("veth0", "unknown", "-1");
  EXPECT_DOUBLE_EQ(LocalLinkMibPerSecond(env), 1000 * 1e6 / 8 / 1048576.0);
  link("eth2", "up", "10000");
  EXPECT_DOUBLE_EQ(LocalLinkMibPerSecond(env), 10000 * 1e6 / 8 / 1048576.0);
}

}  // namespace
}  // namespace ka::golden
