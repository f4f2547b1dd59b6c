#include "testing/fake_env.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "os/real_env.h"

namespace ka::os {
namespace {

TEST(FakeEnv, RunAnswersByLongestPrefixAndRecords) {
  FakeEnv f;
  f.Script({"/usr/sbin/blkid"}, {0, "TYPE=ext4\n", ""});
  f.Script({"/usr/sbin/blkid", "-p", "/dev/bad"}, {2, "", "no such device\n"});
  f.missing_tools = {"jfs_mkfs"};
  f.tool_paths["chroot"] = "/usr/bin/chroot";
  auto a = f.Run({"/usr/sbin/blkid", "-p", "/dev/sda1"});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->out, "TYPE=ext4\n");
  auto b = f.Run({"/usr/sbin/blkid", "-p", "/dev/bad"}, "x");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), "/usr/sbin/blkid -p /dev/bad exited with status 2: no such device");
  EXPECT_TRUE(f.Run({"/bin/true"}).ok());
  ASSERT_EQ(f.runs.size(), 3u);
  EXPECT_EQ(f.runs[1].input, "x");
  EXPECT_EQ(f.argvs()[2], (std::vector<std::string>{"/bin/true"}));
  EXPECT_FALSE(f.Exists("jfs_mkfs"));
  EXPECT_EQ(f.Find("chroot", "coreutils").value_or(""), "/usr/bin/chroot");
  EXPECT_EQ(f.Find("mkswap", "util-linux").value_or(""), "/usr/sbin/mkswap");
  f.ScriptStartFailure({"/x"}, Status::Io("cannot start"));
  EXPECT_EQ(f.Run({"/x"}).status().message(), "cannot start");
}

TEST(FakeEnv, ScriptOnceAnswersInTurnThenThePermanentAnswer) {
  FakeEnv f;
  f.Script({"/usr/bin/ka"}, {0, "ok", ""});
  f.ScriptOnce({"/usr/bin/ka", "join"}, {1, "", "first"});
  f.ScriptOnce({"/usr/bin/ka", "join"}, {2, "", "second"});
  int seen = 0;
  f.on_run = [&seen](const std::vector<std::string>&) { ++seen; };
  EXPECT_EQ(f.RunAttached({"/usr/bin/ka", "receive"}), 0);
  EXPECT_EQ(f.RunAttached({"/usr/bin/ka", "join"}), 1);
  EXPECT_NE(f.Run({"/usr/bin/ka", "join"}).status().message().find("second"), std::string::npos);
  EXPECT_EQ(f.Run({"/usr/bin/ka", "join"}).value().out, "ok");
  EXPECT_EQ(seen, 4);
  EXPECT_TRUE(f.runs[0].attached);
  EXPECT_FALSE(f.runs[2].attached);
  EXPECT_FALSE(f.PowerAction("reboot").ok());
  EXPECT_EQ(f.power_actions, std::vector<std::string>{"reboot"});
}

// The same file operations on the fake's in-memory tree and on a real directory
// give the same answers: the fake is a faithful stand-in.
void CheckFiles(Env& env, const std::string& root) {
  SCOPED_TRACE(root);
  EXPECT_TRUE(env.IsDirectory(root));
  EXPECT_FALSE(env.FileExists(root + "/a"));
  EXPECT_FALSE(env.ReadFile(root + "/a").ok());
  EXPECT_FALSE(env.WriteFile(root + "/no/a", "x").ok());  // no parent directory
  ASSERT_TRUE(env.MakeDirs(root + "/d/e").ok());
  ASSERT_TRUE(env.MakeDirs(root + "/d/e").ok());  // already there
  ASSERT_TRUE(env.WriteFile(root + "/d/f", "one").ok());
  ASSERT_TRUE(env.WriteFile(root + "/d/f", "two", 0600).ok());
  EXPECT_EQ(env.ReadFile(root + "/d/f").value_or(""), "two");
  EXPECT_FALSE(env.IsDirectory(root + "/d/f"));
  EXPECT_FALSE(env.MakeDirs(root + "/d/f").ok());  // a file is in the way
  EXPECT_FALSE(env.ReadFile(root + "/d").ok());    // a directory
  EXPECT_EQ(env.ListDir(root + "/d").value_or(std::vector<std::string>{}), (std::vector<std::string>{"e", "f"}));
  EXPECT_FALSE(env.ListDir(root + "/none").ok());
  ASSERT_TRUE(env.RemoveFile(root + "/d/f").ok());
  EXPECT_TRUE(env.RemoveFile(root + "/d/f").ok());  // gone already: not an error
  EXPECT_FALSE(env.FileExists(root + "/d/f"));
  auto t = env.MakeTempDir(root + "/d/run");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->rfind(root + "/d/run.", 0), 0u) << *t;
  EXPECT_TRUE(env.IsDirectory(*t));
  EXPECT_FALSE(env.MakeTempDir(root + "/none/run").ok());
  EXPECT_EQ(env.ResolvePath(*t).value_or(""), *t);
  EXPECT_FALSE(env.ResolvePath(root + "/none").ok());
  EXPECT_FALSE(env.RemoveDir(root + "/d").ok());  // not empty
  ASSERT_TRUE(env.RemoveDir(*t).ok());
  EXPECT_TRUE(env.RemoveDir(*t).ok());  // gone already
  EXPECT_FALSE(env.IsDirectory(*t));
  EXPECT_FALSE(env.ReadLink(root + "/d").ok());  // not a link
  EXPECT_FALSE(env.ReadLink(root + "/none").ok());
}

TEST(FakeEnv, FilesBehaveAsTheRealOnes) {
  char tmpl[] = "/tmp/ka-env-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  RealEnv real;
  CheckFiles(real, tmpl);
  std::filesystem::remove_all(tmpl);
  FakeEnv fake;
  fake.AddDir("/tmp/ka-env");
  CheckFiles(fake, "/tmp/ka-env");
  EXPECT_TRUE(fake.IsDirectory("/tmp"));  // AddDir made the parents
  fake.symlinks["/sys/class/block/sda"] = "/sys/devices/pci/block/sda";
  fake.AddDir("/sys/devices/pci/block/sda/sda1");
  EXPECT_EQ(fake.ReadLink("/sys/class/block/sda").value_or(""), "/sys/devices/pci/block/sda");
  EXPECT_EQ(fake.ResolvePath("/sys/class/block/sda/sda1").value_or(""), "/sys/devices/pci/block/sda/sda1");
}

}  // namespace
}  // namespace ka::os
