#include "netboot/stage1_agent.h"

#include <gtest/gtest.h>

#include <sstream>

#include "crypto/key_file.h"
#include "testing/fake_env.h"

namespace ka::netboot {
namespace {

// A node without a VM: FakeEnv answers `ka SUBCOMMAND` from a script and holds
// /sys/block and the files; the console is a string.
class Node {
 public:
  Node() { AddDisk("vda"); }
  void AddDisk(const std::string& name) {
    env.AddFile("/sys/block/" + name + "/size", "2097152\n");
    env.AddFile("/sys/block/" + name + "/removable", "0\n");
  }
  // `ka SUB` exits with these statuses, one per run, then 0.
  void Fail(const std::string& sub, const std::vector<int>& statuses) {
    for (int rc : statuses) env.ScriptOnce({"/usr/bin/ka", sub}, {rc, "", ""});
  }
  int Run(const std::string& cmdline) {
    Stage1Config c;
    c.params = ParseStage1Params(cmdline).value();
    return RunStage1(c, env, console);
  }
  std::vector<std::vector<std::string>> runs() const { return env.argvs(); }
  int Count(const std::string& sub) const {
    int n = 0;
    for (auto& r : env.runs) n += r.argv.size() > 1 && r.argv[1] == sub;
    return n;
  }
  bool Said(const std::string& needle) const { return console.str().find(needle) != std::string::npos; }

  os::FakeEnv env;
  std::ostringstream console;
};

TEST(Stage1Agent, FetchesStage2ThenJoinsWithTheBootMac) {
  Node n;
  n.env.AddFile("/etc/ka/secret", "s");
  int rc = n.Run("ka.server=10.1.0.1 ka.then=exit BOOTIF=01-52-54-00-ab-cd-01");
  EXPECT_EQ(rc, 0);
  auto runs = n.runs();
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0], (std::vector<std::string>{"/usr/bin/ka", "receive", "--session", "ka-stage2", "--join-timeout",
                                               "8", "--server", "10.1.0.1", "--secret-file", "/etc/ka/secret", "--name",
                                               "pxe-ab-cd-01", "--wait", "10", "--output", "/run/ka/stage2.ka"}));
  EXPECT_EQ(runs[1], (std::vector<std::string>{"/usr/bin/ka", "tree-extract", "/", "-i", "/run/ka/stage2.ka"}));
  EXPECT_TRUE(n.env.FileExists("/etc/ka/stage2.installed"));  // the marker: stage2 is not fetched again
  EXPECT_EQ(runs[2],
            (std::vector<std::string>{"/usr/bin/ka", "join", "--session", "ka", "--join-timeout", "8", "--server",
                                      "10.1.0.1", "--secret-file", "/etc/ka/secret", "--name", "pxe-ab-cd-01", "--disk",
                                      "/dev/vda", "--then", "exit", "--dev-links", "--mac", "52:54:00:ab:cd:01"}));
  for (const auto& call : n.env.runs) EXPECT_TRUE(call.attached);  // on the console, for the operator to see
  EXPECT_TRUE(n.env.power_actions.empty());
  EXPECT_EQ(n.env.pauses, 0);
}

TEST(Stage1Agent, PassesTheTrustAndOperatorKeysToReceiveAndJoin) {
  const crypto::PublicKey golden = crypto::NewSigningKey().pub, op = crypto::NewSigningKey().pub;
  const std::string g = crypto::FormatPublicKey(golden), o = crypto::FormatPublicKey(op);
  Node n;
  int rc = n.Run("ka.then=exit ka.trust=" + g + " ka.operator=" + o);
  EXPECT_EQ(rc, 0);
  auto runs = n.runs();
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0], (std::vector<std::string>{"/usr/bin/ka", "receive", "--session", "ka-stage2", "--join-timeout",
                                               "8", "--trust", g, "--allow-remote-commands", o, "--wait", "10",
                                               "--output", "/run/ka/stage2.ka"}));
  EXPECT_EQ(runs[2], (std::vector<std::string>{"/usr/bin/ka", "join", "--session", "ka", "--join-timeout", "8",
                                               "--trust", g, "--allow-remote-commands", o, "--disk", "/dev/vda",
                                               "--then", "exit", "--dev-links"}));
  EXPECT_TRUE(n.Said("accepting only a stream signed by " + golden.Fingerprint())) << n.console.str();
  EXPECT_TRUE(n.Said("remote commands only when signed by " + op.Fingerprint()));
}

TEST(Stage1Agent, WithoutKeysNoTrustOptions) {
  Node n;
  EXPECT_EQ(n.Run("ka.then=exit"), 0);
  for (const auto& run : n.runs()) {
    for (const auto& arg : run) {
      EXPECT_NE(arg, "--trust");
      EXPECT_NE(arg, "--allow-remote-commands");
    }
  }
}

TEST(Stage1Agent, UnreachableServerFiveTriesWithCountdownThenTheAction) {
  Node n;
  n.Fail("receive", {1, 1, 1, 1, 1});
  int rc = n.Run("ka.server=10.1.0.1 ka.fail=poweroff ka.delay=3");
  EXPECT_EQ(rc, 1);  // the fake cannot power off
  EXPECT_EQ(n.Count("receive"), 5);
  EXPECT_EQ(n.Count("join"), 0);
  EXPECT_EQ(n.env.power_actions, std::vector<std::string>{"poweroff"});
  // 4 countdowns between the 5 tries, one before the action: 3 s each, second by second.
  EXPECT_EQ(n.env.pauses, 5 * 3);
  EXPECT_EQ(n.env.paused, std::chrono::seconds(5 * 3));
  for (int i = 1; i <= 5; ++i) EXPECT_TRUE(n.Said("try " + std::to_string(i) + " of 5 failed")) << i;
  EXPECT_TRUE(n.Said("\rka stage1: next try in 3 s"));  // redrawn in place
  EXPECT_TRUE(n.Said("\rka stage1: powering off in 1 s \nka stage1: powering off now\n"));
  EXPECT_TRUE(n.Said("no clone after 5 tries"));
  EXPECT_TRUE(n.Said("poweroff failed: "));
}

TEST(Stage1Agent, Stage2IsFetchedOnceAcrossTries) {
  Node n;
  n.Fail("join", {1});
  int rc = n.Run("ka.delay=0 ka.then=exit");
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(n.Count("receive"), 1);
  EXPECT_EQ(n.Count("join"), 2);
  // Discovery: no --server.
  for (auto& r : n.runs())
    for (auto& w : r) EXPECT_NE(w, "--server");
}

TEST(Stage1Agent, AFailedUnpackRemovesTheDownloadAndTriesAgain) {
  Node n;
  n.env.AddFile("/run/ka/stage2.ka", "stream");
  n.Fail("tree-extract", {2});
  EXPECT_EQ(n.Run("ka.delay=0 ka.then=exit"), 0);
  EXPECT_EQ(n.Count("receive"), 2);
  EXPECT_FALSE(n.env.FileExists("/run/ka/stage2.ka"));
  EXPECT_TRUE(n.Said("unpacking stage2 exited with status 2"));
}

TEST(Stage1Agent, ShellActionAndRescueReturnThree) {
  Node n;
  n.Fail("receive", {1, 1});
  EXPECT_EQ(n.Run("ka.tries=2 ka.delay=0 ka.fail=shell"), 3);
  EXPECT_TRUE(n.env.power_actions.empty());
  Node rescue;
  EXPECT_EQ(rescue.Run("ka.rescue=1"), 3);
  EXPECT_TRUE(rescue.env.runs.empty());
}

TEST(Stage1Agent, NoDiskFailsTheTryWithTheReason) {
  Node n;
  n.env.files.clear();  // no /sys/block/vda
  EXPECT_EQ(n.Run("ka.tries=1 ka.delay=0 ka.fail=reboot"), 1);
  EXPECT_TRUE(n.Said("no fixed disk found"));
  EXPECT_EQ(n.Count("join"), 0);
  EXPECT_EQ(n.env.power_actions, std::vector<std::string>{"reboot"});
}

TEST(Stage1Agent, NodeNames) {
  EXPECT_EQ(NodeNameForMac("52:54:00:ab:cd:01"), "pxe-ab-cd-01");
  EXPECT_EQ(NodeNameForMac(""), "");
}

TEST(Stage1Agent, NoDiskYetLoadsTheDriversAgainThenLooks) {
  Node n;
  n.env.files.clear();
  // The disk's controller is found once the drivers of the present devices are loaded.
  n.env.on_run = [&n](const std::vector<std::string>& argv) {
    if (argv[0] == "/bin/sh" && argv.size() == 3 && argv[2].find("modprobe") != std::string::npos) n.AddDisk("sda");
  };
  EXPECT_EQ(n.Run("ka.then=exit"), 0);
  EXPECT_TRUE(n.Said("no disk yet; loading the drivers of the devices present"));
  EXPECT_TRUE(n.Said("cloning onto /dev/sda (ka.disk=auto)"));
  EXPECT_EQ(n.Count("join"), 1);
}

}  // namespace
}  // namespace ka::netboot
