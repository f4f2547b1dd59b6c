#include "os/run_tool.h"

#include <gtest/gtest.h>

namespace ka::os {
namespace {

TEST(RunTool, FeedsStdinAndCollectsOutput) {
  auto r = RunTool({"/bin/sh", "-c", "cat; echo err >&2; exit 3"}, "hello\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "hello\n");
  EXPECT_EQ(r->err, "err\n");
}

TEST(RunTool, LargeInputAndOutputDoNotDeadlock) {
  std::string big(1 << 20, 'x');
  auto r = RunTool({"/bin/cat"}, big);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out.size(), big.size());
}

TEST(RunTool, CLocale) {
  auto r = RunTool({"/bin/sh", "-c", "echo $LC_ALL"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "C\n");
}

TEST(RunTool, FailureMessageNamesCommandAndReason) {
  ToolOutput o{1, "", "Checking...\n\nsfdisk: /dev/x: cannot open: No such file\n"};
  Status s = ToolFailure({"sfdisk", "--json", "/dev/x"}, o);
  EXPECT_EQ(s.message(),
            "sfdisk --json /dev/x exited with status 1: Checking...; sfdisk: /dev/x: cannot open: No such file");
}

TEST(RunTool, MissingToolNamesThePackage) {
  auto r = FindTool("no-such-tool-ka", "ka-tools");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("install the Debian package ka-tools"), std::string::npos);
  auto bad = RunTool({"relative"});
  EXPECT_FALSE(bad.ok());
  auto gone = RunTool({"/nonexistent/tool"});
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->exit_code, 127);
}

}  // namespace
}  // namespace ka::os
