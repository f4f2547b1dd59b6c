#include "golden/mountinfo.h"

#include <gtest/gtest.h>

namespace ka::golden {
namespace {

TEST(MountInfo, ParsesLines) {
  auto r = ParseMountInfo(
      "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n"
      "40 22 8:6 / /srv/my\\040data ro,noatime shared:20 master:3 - xfs /dev/sda6 ro,norecovery\n"
      "41 22 0:5 / /dev rw,nosuid - devtmpfs udev rw\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].major, 254u);
  EXPECT_EQ((*r)[0].minor, 1u);
  EXPECT_EQ((*r)[0].source, "/dev/vda1");
  EXPECT_FALSE((*r)[0].read_only());
  EXPECT_EQ((*r)[1].mount_point, "/srv/my data");
  EXPECT_EQ((*r)[1].type, "xfs");
  EXPECT_TRUE((*r)[1].read_only());
}

TEST(MountInfo, RejectsGarbage) {
  EXPECT_FALSE(ParseMountInfo("1 2 3\n").ok());
  EXPECT_FALSE(ParseMountInfo("22 1 x / / rw shared:1 - ext4 /dev/vda1 rw\n").ok());
}

TEST(MountInfo, ReadsThisProcess) {
  auto r = ReadMountInfo(os::DefaultEnv());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  bool root = false;
  for (auto& e : *r) root |= e.mount_point == "/";
  EXPECT_TRUE(root);
}

}  // namespace
}  // namespace ka::golden
