// Unit tests for the package owner lookup (dpkg_index.h), merged-/usr variants included.
#include "netboot/dpkg_index.h"

#include <gtest/gtest.h>

namespace ka::netboot {
namespace {

TEST(DpkgIndex, OwnerWithAndWithoutUsr) {
  DpkgIndex index;
  index.Add("e2fsprogs", "/.\n/sbin\n/sbin/mke2fs\n/usr/sbin/e2freefrag\n");
  index.Add("libc6:amd64", "/lib/x86_64-linux-gnu/libc.so.6\n");
  EXPECT_EQ(index.Owner("/sbin/mke2fs"), "e2fsprogs");
  EXPECT_EQ(index.Owner("/usr/sbin/mke2fs"), "e2fsprogs");
  EXPECT_EQ(index.Owner("/sbin/e2freefrag"), "e2fsprogs");
  EXPECT_EQ(index.Owner("/usr/lib/x86_64-linux-gnu/libc.so.6"), "libc6");
  EXPECT_EQ(index.Owner("/usr/bin/nothing-owns-this"), "");
}

}  // namespace
}  // namespace ka::netboot
