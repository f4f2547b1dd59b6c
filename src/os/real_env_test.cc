#include "os/real_env.h"

#include <gtest/gtest.h>

namespace ka::os {
namespace {

TEST(RealEnv, RunReturnsOutputOrToolFailureWithStderr) {
  RealEnv r;
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

TEST(RunTool, QuoteArgv) {
  EXPECT_EQ(QuoteArgv({"/usr/sbin/mkfs.ext4", "-L", "my root", "it's", ""}),
            "/usr/sbin/mkfs.ext4 -L 'my root' 'it'\\''s' ''");
}

}  // namespace
}  // namespace ka::os
