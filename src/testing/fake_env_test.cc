#include "testing/fake_env.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ka::os
