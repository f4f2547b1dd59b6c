#include "format/fs_walk.h"

#include <gtest/gtest.h>

namespace ka::format {
namespace {

TEST(FsWalk, NormalizeRelativePath) {
  EXPECT_EQ(NormalizeRelativePath("tmp"), "tmp");
  EXPECT_EQ(NormalizeRelativePath("./var//cache/apt/"), "var/cache/apt");
  EXPECT_EQ(NormalizeRelativePath("/var/cache"), "var/cache");
  EXPECT_EQ(NormalizeRelativePath("./"), ".");
  EXPECT_EQ(NormalizeRelativePath(""), ".");
}

}  // namespace
}  // namespace ka::format
