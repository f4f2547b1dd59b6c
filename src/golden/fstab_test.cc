#include "golden/fstab.h"

#include <gtest/gtest.h>

namespace ka::golden {
namespace {

TEST(Fstab, ParsesDebianStyleFile) {
  auto r = ParseFstab(
      "# /etc/fstab: static file system information.\n"
      "UUID=0a1b2c3d-0000-4000-8000-000000000001 /               ext4    errors=remount-ro 0       1\n"
      "UUID=0a1b2c3d-0000-4000-8000-000000000002 /boot ext4 defaults 0 2\n"
      "\n"
      "LABEL=swap none swap sw 0 0\n"
      "/dev/sda7\t/srv/my\\040data xfs defaults\n"
      "proc /proc proc\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ((*r)[0].file, "/");
  EXPECT_EQ((*r)[0].line, 2);
  EXPECT_EQ((*r)[2].type, "swap");
  EXPECT_EQ((*r)[3].file, "/srv/my data");
  EXPECT_EQ((*r)[4].options, "defaults");
}

TEST(Fstab, MalformedLineNamesTheLine) {
  auto r = ParseFstab("UUID=x /\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 1"), std::string::npos);
}

TEST(Fstab, Specs) {
  EXPECT_EQ(ParseSpec("UUID=ABCD-12").kind, SpecMatch::kUuid);
  EXPECT_EQ(ParseSpec("UUID=ABCD-12").value, "abcd-12");
  EXPECT_EQ(ParseSpec("\"LABEL=root\"").value, "root");
  EXPECT_EQ(ParseSpec("/dev/disk/by-label/my\\x20disk").value, "my disk");
  EXPECT_EQ(ParseSpec("PARTUUID=1234abcd-06").kind, SpecMatch::kPartUuid);
  EXPECT_EQ(ParseSpec("/dev/disk/by-uuid/ABC").kind, SpecMatch::kUuid);
  for (auto [spec, num] : {std::pair{"/dev/sda6", "6"}, {"/dev/vda1", "1"}, {"/dev/hdb12", "12"}, {"/dev/xvda3", "3"},
                           {"/dev/nvme0n1p2", "2"}, {"/dev/mmcblk0p1", "1"}, {"/dev/loop3p5", "5"}}) {
    SpecMatch m = ParseSpec(spec);
    EXPECT_EQ(m.kind, SpecMatch::kPartitionNumber) << spec;
    EXPECT_EQ(m.value, num) << spec;
  }
  EXPECT_EQ(ParseSpec("proc").kind, SpecMatch::kUnknown);
  EXPECT_EQ(ParseSpec("/dev/mapper/vg-root").kind, SpecMatch::kUnknown);
  for (const char* spec : {"/dev/sda", "/dev/sd1", "/dev/sdA1", "/dev/sda1x", "/dev/nvme0n1", "/dev/nvme0p1",
                           "/dev/nvmen1p1", "/dev/mmcblkp1", "/dev/loop0p", "/dev/zda1", "dev/sda1", "/dev/sda-1"})
    EXPECT_EQ(ParseSpec(spec).kind, SpecMatch::kUnknown) << spec;
}

// Regression: std::regex recursed once per character, so a long spec in a golden's fstab
// overflowed the stack (a segfault at about 100000 characters).
TEST(Fstab, LongKernelNamesAreNoStackOverflow) {
  std::string letters(1 << 20, 'a');
  SpecMatch m = ParseSpec("/dev/sd" + letters + "7");
  EXPECT_EQ(m.kind, SpecMatch::kPartitionNumber);
  EXPECT_EQ(m.value, "7");
  EXPECT_EQ(ParseSpec("/dev/nvme" + std::string(1 << 20, '1') + "n1p2").value, "2");
  EXPECT_EQ(ParseSpec("/dev/sd" + letters + "x").kind, SpecMatch::kUnknown);
  auto entries = ParseFstab("/dev/vd" + letters + "1 / ext4 defaults 0 1\n");
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(ParseSpec((*entries)[0].spec).value, "1");
}

}  // namespace
}  // namespace ka::golden
