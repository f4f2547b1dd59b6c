#include "control/session_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "crypto/temp_dir_for_test.h"

namespace ka::control {
namespace {

using crypto::ModeOf;
using crypto::ScopedUmask;
using crypto::TempDir;

TEST(ControlSessionDir, MadePrivateWhateverTheUmask) {
  TempDir t;
  ScopedUmask open_umask(0);
  const std::string dir = t / "var/log/ka/lab-20240101-000000";
  std::string warning;
  ASSERT_TRUE(PrepareSessionDir(dir, &warning).ok());
  EXPECT_EQ(warning, "");
  EXPECT_EQ(ModeOf(dir), 0700u);
  EXPECT_EQ(ModeOf(dir + "/logs"), 0700u);
  EXPECT_EQ(ModeOf(ServerLogPath(dir)), 0600u);
  EXPECT_EQ(ServerLogPath(dir), dir + "/server.log");
}

TEST(ControlSessionDir, AnExistingOpenDirectoryIsKeptButWarnedAbout) {
  TempDir t;
  const std::string dir = t / "mine";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  std::string warning;
  ASSERT_TRUE(PrepareSessionDir(dir, &warning).ok());
  EXPECT_EQ(ModeOf(dir), 0755u);  // not ours to change
  EXPECT_NE(warning.find("chmod 700 " + dir), std::string::npos) << warning;
  EXPECT_EQ(ModeOf(dir + "/logs"), 0700u);
  EXPECT_EQ(ModeOf(dir + "/server.log"), 0600u);  // the files are private anyway

  t.Write("file", "x", 0600);
  EXPECT_FALSE(MakePrivateDir(t / "file").ok());
}

TEST(ControlSessionDir, OpenPrivateAppendTightensAnOldFileAndAppends) {
  TempDir t;
  const std::string log = t.Write("node.log", "old\n", 0644);
  {
    auto fd = OpenPrivateAppend(log);
    ASSERT_TRUE(fd.ok()) << fd.status().ToString();
    ASSERT_EQ(::write(fd->get(), "new\n", 4), 4);
  }
  EXPECT_EQ(ModeOf(log), 0600u);
  EXPECT_EQ(crypto::ReadAll(log), "old\nnew\n");
  ASSERT_EQ(::symlink(log.c_str(), (t / "link").c_str()), 0);
  EXPECT_FALSE(OpenPrivateAppend(t / "link").ok());  // never written through a symlink
}

}  // namespace
}  // namespace ka::control
