#include "format/fs_walk.h"

#include <gtest/gtest.h>

#include "testing/string_cases.h"

namespace ka::format {
namespace {

TEST(FsWalk, NormalizeRelativePath) {
  testutil::ExpectStringCases(
      NormalizeRelativePath,
      {{"tmp", "tmp"}, {"./var//cache/apt/", "var/cache/apt"}, {"/var/cache", "var/cache"}, {"./", "."}, {"", "."}});
}

}  // namespace
}  // namespace ka::format
