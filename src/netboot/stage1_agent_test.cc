#include "netboot/stage1_agent.h"

#include <gtest/gtest.h>

#include "crypto/key_file.h"

#include <map>
#include <set>

namespace ka::netboot {
namespace {

// Records everything; `rc_for` answers Run by argv[1] (the ka subcommand).
class FakeSystem : public Stage1System {
 public:
  std::vector<std::vector<std::string>> runs;
  std::vector<std::string> lines;
  std::map<std::string, std::vector<int>> rc_for;  // consumed front to back; empty: 0
  std::set<std::string> files;
  int slept = 0;
  std::vector<std::string> acts;
  Result<std::string> disk = std::string("/dev/vda");

  int Run(const std::vector<std::string>& argv) override {
    runs.push_back(argv);
    if (argv[0] == "/bin/touch") {
      files.insert(argv[1]);
      return 0;
    }
    auto& q = rc_for[argv.size() > 1 ? argv[1] : argv[0]];
    if (q.empty()) return 0;
    int rc = q.front();
    q.erase(q.begin());
    return rc;
  }
  void Sleep(int s) override { slept += s; }
  void Say(const std::string& t, bool same_line) override { lines.push_back((same_line ? "~" : "") + t); }
  bool Exists(const std::string& p) override { return files.count(p) > 0; }
  void Remove(const std::string& p) override { files.erase(p); }
  Status Act(const std::string& a) override {
    acts.push_back(a);
    return Status::Io("test system cannot " + a);
  }
  std::vector<Result<std::string>> disks_later;  // PickDisk answers these first, then `disk`
  Result<std::string> PickDisk() override {
    if (disks_later.empty()) return disk;
    auto d = disks_later.front();
    disks_later.erase(disks_later.begin());
    return d;
  }

  int Count(const std::string& sub) const {
    int n = 0;
    for (auto& r : runs) n += r.size() > 1 && r[1] == sub;
    return n;
  }
  bool Said(const std::string& needle) const {
    for (auto& l : lines)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }
};

Stage1Config Config(const std::string& cmdline) {
  Stage1Config c;
  c.params = ParseStage1Params(cmdline).value();
  return c;
}

TEST(Stage1Agent, FetchesStage2ThenJoinsWithTheBootMac) {
  FakeSystem sys;
  sys.files.insert("/etc/ka/secret");
  int rc = RunStage1(Config("ka.server=10.1.0.1 ka.then=exit BOOTIF=01-52-54-00-ab-cd-01"), sys);
  EXPECT_EQ(rc, 0);
  ASSERT_EQ(sys.runs.size(), 4u);
  EXPECT_EQ(sys.runs[0], (std::vector<std::string>{"/usr/bin/ka", "receive", "--session", "ka-stage2", "--join-timeout",
                                                   "8", "--server", "10.1.0.1", "--secret-file", "/etc/ka/secret", "--name",
                                                   "pxe-ab-cd-01", "--wait", "10", "--output", "/run/ka/stage2.ka"}));
  EXPECT_EQ(sys.runs[1], (std::vector<std::string>{"/usr/bin/ka", "tree-extract", "/", "-i", "/run/ka/stage2.ka"}));
  EXPECT_EQ(sys.runs[2][0], "/bin/touch");
  EXPECT_EQ(sys.runs[3], (std::vector<std::string>{"/usr/bin/ka", "join", "--session", "ka", "--join-timeout", "8",
                                                   "--server", "10.1.0.1",
                                                   "--secret-file", "/etc/ka/secret", "--name", "pxe-ab-cd-01",
                                                   "--disk", "/dev/vda", "--then", "exit", "--dev-links", "--mac",
                                                   "52:54:00:ab:cd:01"}));
  EXPECT_TRUE(sys.acts.empty());
  EXPECT_EQ(sys.slept, 0);
}

TEST(Stage1Agent, PassesTheTrustAndOperatorKeysToReceiveAndJoin) {
  const crypto::PublicKey golden = crypto::NewSigningKey().pub, op = crypto::NewSigningKey().pub;
  const std::string g = crypto::FormatPublicKey(golden), o = crypto::FormatPublicKey(op);
  FakeSystem sys;
  int rc = RunStage1(Config("ka.then=exit ka.trust=" + g + " ka.operator=" + o), sys);
  EXPECT_EQ(rc, 0);
  ASSERT_EQ(sys.runs.size(), 4u);
  EXPECT_EQ(sys.runs[0], (std::vector<std::string>{"/usr/bin/ka", "receive", "--session", "ka-stage2", "--join-timeout",
                                                   "8", "--trust", g,
                                                   "--allow-remote-commands", o, "--wait", "10", "--output",
                                                   "/run/ka/stage2.ka"}));
  EXPECT_EQ(sys.runs[3], (std::vector<std::string>{"/usr/bin/ka", "join", "--session", "ka", "--join-timeout",
                                                   "8", "--trust", g,
                                                   "--allow-remote-commands", o, "--disk", "/dev/vda", "--then",
                                                   "exit", "--dev-links"}));
  EXPECT_TRUE(sys.Said("accepting only a stream signed by " + golden.Fingerprint())) << sys.lines.front();
  EXPECT_TRUE(sys.Said("remote commands only when signed by " + op.Fingerprint()));
}

TEST(Stage1Agent, WithoutKeysNoTrustOptions) {
  FakeSystem sys;
  EXPECT_EQ(RunStage1(Config("ka.then=exit"), sys), 0);
  for (const auto& run : sys.runs) {
    for (const auto& arg : run) {
      EXPECT_NE(arg, "--trust");
      EXPECT_NE(arg, "--allow-remote-commands");
    }
  }
}

TEST(Stage1Agent, UnreachableServerFiveTriesWithCountdownThenTheAction) {
  FakeSystem sys;
  sys.rc_for["receive"] = {1, 1, 1, 1, 1};
  int rc = RunStage1(Config("ka.server=10.1.0.1 ka.fail=poweroff ka.delay=3"), sys);
  EXPECT_EQ(rc, 1);  // the fake cannot power off
  EXPECT_EQ(sys.Count("receive"), 5);
  EXPECT_EQ(sys.Count("join"), 0);
  EXPECT_EQ(sys.acts, std::vector<std::string>{"poweroff"});
  // 4 countdowns between the 5 tries, one before the action: 3 s each, second by second.
  EXPECT_EQ(sys.slept, 5 * 3);
  for (int i = 1; i <= 5; ++i) EXPECT_TRUE(sys.Said("try " + std::to_string(i) + " of 5 failed")) << i;
  EXPECT_TRUE(sys.Said("~ka stage1: next try in 3 s"));
  EXPECT_TRUE(sys.Said("~ka stage1: powering off in 1 s"));
  EXPECT_TRUE(sys.Said("no clone after 5 tries"));
}

TEST(Stage1Agent, Stage2IsFetchedOnceAcrossTries) {
  FakeSystem sys;
  sys.rc_for["join"] = {1, 0};
  int rc = RunStage1(Config("ka.delay=0 ka.then=exit"), sys);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(sys.Count("receive"), 1);
  EXPECT_EQ(sys.Count("join"), 2);
  // Discovery: no --server.
  for (auto& r : sys.runs)
    for (auto& w : r) EXPECT_NE(w, "--server");
}

TEST(Stage1Agent, ShellActionAndRescueReturnThree) {
  FakeSystem sys;
  sys.rc_for["receive"] = {1, 1};
  EXPECT_EQ(RunStage1(Config("ka.tries=2 ka.delay=0 ka.fail=shell"), sys), 3);
  EXPECT_TRUE(sys.acts.empty());
  FakeSystem rescue;
  EXPECT_EQ(RunStage1(Config("ka.rescue=1"), rescue), 3);
  EXPECT_TRUE(rescue.runs.empty());
}

TEST(Stage1Agent, NoDiskFailsTheTryWithTheReason) {
  FakeSystem sys;
  sys.disk = Status::Invalid("no fixed disk found");
  EXPECT_EQ(RunStage1(Config("ka.tries=1 ka.delay=0 ka.fail=reboot"), sys), 1);
  EXPECT_TRUE(sys.Said("no fixed disk found"));
  EXPECT_EQ(sys.Count("join"), 0);
  EXPECT_EQ(sys.acts, std::vector<std::string>{"reboot"});
}

TEST(Stage1Agent, NodeNames) {
  EXPECT_EQ(NodeNameForMac("52:54:00:ab:cd:01"), "pxe-ab-cd-01");
  EXPECT_EQ(NodeNameForMac(""), "");
}

TEST(Stage1Agent, NoDiskYetLoadsTheDriversAgainThenLooks) {
  FakeSystem sys;
  sys.disks_later = {Status::Invalid("no fixed disk found in /sys/block")};
  EXPECT_EQ(RunStage1(Config("ka.then=exit"), sys), 0);
  EXPECT_TRUE(sys.Said("no disk yet; loading the drivers of the devices present"));
  bool loaded = false;
  for (const auto& r : sys.runs) loaded |= r[0] == "/bin/sh" && r.size() == 3 && r[2].find("modprobe") != std::string::npos;
  EXPECT_TRUE(loaded);
  EXPECT_EQ(sys.Count("join"), 1);
}

}  // namespace
}  // namespace ka::netboot
