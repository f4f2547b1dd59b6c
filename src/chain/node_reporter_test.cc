#include "chain/node_reporter.h"

#include <gtest/gtest.h>

#include "chain/remote_exec.h"

namespace ka::chain {
namespace {

TEST(NodeReporter, CoalescesStatesAndQueuesLines) {
  NodeReporter r;
  EXPECT_EQ(r.state(), "joined");
  r.State("partitioning", "/dev/sdb");
  r.State("formatting", "p1 ext4");
  r.Log("a");
  r.Log("b");
  auto p = r.Take();
  EXPECT_TRUE(p.has_state);
  EXPECT_EQ(p.state, "formatting");  // the last change of the interval
  EXPECT_EQ(p.detail, "p1 ext4");
  EXPECT_EQ(p.lines, (std::vector<std::string>{"a", "b"}));
  auto q = r.Take();
  EXPECT_FALSE(q.has_state);
  EXPECT_TRUE(q.lines.empty());
}

TEST(NodeReporter, DropsTheOldestLinesAndSaysSo) {
  NodeReporter r;
  for (int i = 0; i < 5010; ++i) r.Log("line " + std::to_string(i));
  auto p = r.Take();
  ASSERT_EQ(p.lines.size(), 5001u);
  EXPECT_EQ(p.lines[0], "... 10 log lines dropped while the server was unreachable");
  EXPECT_EQ(p.lines[1], "line 10");
  EXPECT_EQ(p.lines.back(), "line 5009");
}

TEST(RemoteExec, OutputAndExitStatus) {
  ExecOutcome r = RunRemoteCommand("echo out; echo err >&2; exit 3", 10, 1024);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.output, "out\nerr\n");
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(RunRemoteCommand("true", 10, 1024).exit_code, 0);
}

TEST(RemoteExec, CutsLongOutputAndKillsSlowCommands) {
  ExecOutcome big = RunRemoteCommand("head -c 100000 /dev/zero | tr '\\0' x", 10, 1000);
  EXPECT_EQ(big.output.substr(0, 1000), std::string(1000, 'x'));
  EXPECT_NE(big.output.find("output cut at 1000 bytes"), std::string::npos);
  ExecOutcome slow = RunRemoteCommand("sleep 30", 0.3, 1000);
  EXPECT_TRUE(slow.timed_out);
  EXPECT_EQ(slow.exit_code, 128 + 9);
}

}  // namespace
}  // namespace ka::chain
