#include "node/runner.h"

#include <gtest/gtest.h>

#include "node/fake_runner.h"

namespace ka::node {
namespace {

TEST(NodeRunner, RealRunnerReturnsOutputOrToolFailureWithStderr) {
  RealRunner r;
  auto sh = r.Find("sh", "dash");
  ASSERT_TRUE(sh.ok());
  auto ok = r.Run({*sh, "-c", "cat"}, "in");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->out, "in");
  auto bad = r.Run({*sh, "-c", "echo boom >&2; exit 4"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("exited with status 4: boom"), std::string::npos);
  EXPECT_FALSE(r.Run({"relative-tool"}).ok());
  auto missing = r.Find("no-such-tool-ka", "ka-pkg");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("ka-pkg"), std::string::npos);
  EXPECT_FALSE(r.Exists("no-such-tool-ka"));
}

TEST(NodeRunner, FakeRunnerAnswersByLongestPrefixAndRecords) {
  FakeRunner f;
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
  ASSERT_EQ(f.calls.size(), 3u);
  EXPECT_EQ(f.calls[1].input, "x");
  EXPECT_EQ(f.argvs()[2], (std::vector<std::string>{"/bin/true"}));
  EXPECT_FALSE(f.Exists("jfs_mkfs"));
  EXPECT_EQ(f.Find("chroot", "coreutils").value_or(""), "/usr/bin/chroot");
  EXPECT_EQ(f.Find("mkswap", "util-linux").value_or(""), "/usr/sbin/mkswap");
  f.ScriptStartFailure({"/x"}, Status::Io("cannot start"));
  EXPECT_EQ(f.Run({"/x"}).status().message(), "cannot start");
}

TEST(NodeRunner, QuoteArgv) {
  EXPECT_EQ(QuoteArgv({"/usr/sbin/mkfs.ext4", "-L", "my root", "it's", ""}),
            "/usr/sbin/mkfs.ext4 -L 'my root' 'it'\\''s' ''");
}

}  // namespace
}  // namespace ka::node
