#include "layout/validate.h"

#include <gtest/gtest.h>

#include "layout/desc_parser.h"

namespace ka::layout {
namespace {

Status Check(const std::string& text) {
  auto l = ParseDesc(text);
  EXPECT_TRUE(l.ok()) << l.status().message();
  return l.ok() ? CheckLayout(*l) : l.status();
}

void ExpectError(const std::string& text, const std::string& where, const std::string& why) {
  Status s = Check(text);
  ASSERT_FALSE(s.ok()) << "accepted:\n" << text;
  EXPECT_EQ(s.code(), Status::Code::kInvalid);
  EXPECT_EQ(s.message().rfind(where + ": ", 0), 0u) << s.message();
  EXPECT_NE(s.message().find(why), std::string::npos) << s.message();
}

TEST(Validate, SeedLayoutsAreValid) {
  EXPECT_TRUE(Check("linux 3500\nextended fill\nlogical swap 500\nlogical linux fill\n").ok());
  EXPECT_TRUE(Check("swap 500\nlinux fill\n").ok());
  EXPECT_TRUE(Check("linux 100\nlinux 100\nlinux 100\nextended fill\nlogical linux 1\nlogical linux 1\n"
                    "logical linux 1\nlogical linux fill\n")
                  .ok());
}

TEST(Validate, LogicalNeedsAnExtended) {
  ExpectError("linux 300\nlogical swap 100\n", "desc line 2", "logical partition without an extended partition");
  ExpectError("logical swap 100\nextended fill\n", "desc line 1", "before the extended partition (desc line 2)");
  ExpectError("label gpt\nlogical linux 100\n", "desc line 2", "'logical' exists only on MBR disks");
}

TEST(Validate, AtMostFourPrimariesOnMbr) {
  ExpectError("linux 1\nlinux 1\nlinux 1\nlinux 1\nlinux 1\n", "desc line 5", "at most 4");
  ExpectError("linux 1\nlinux 1\nlinux 1\nextended fill\nlinux 1\nlogical linux 1\n", "desc line 5", "at most 4");
}

TEST(Validate, ExtendedOnlyOnMbrAndOnlyOnce) {
  ExpectError("label gpt\nextended fill\n", "desc line 2", "only on MBR disks");
  ExpectError("extended 100\nextended fill\n", "desc line 2", "a second extended partition (desc line 1");
  ExpectError("extended 100\nlogical type85 10\n", "desc line 2", "cannot be logical");
  ExpectError("linux 1\ntype0f fill\nextended 1\n", "desc line 3", "second extended");
  ExpectError("extended fill fs=ext4\n", "desc line 1", "only a container");
  ExpectError("extended fill boot\n", "desc line 1", "only a container");
}

TEST(Validate, OneFillPerLevel) {
  ExpectError("linux fill\nswap fill\n", "desc line 2", "a second fill at the top level (desc line 1");
  ExpectError("linux 1\nextended fill\nlogical linux fill\nlogical swap fill\n", "desc line 4",
              "among the logical partitions (desc line 3");
  // One per level: the extended and a logical may both fill.
  EXPECT_TRUE(Check("extended fill\nlogical linux fill\n").ok());
  ExpectError("linux fill\nswap 1 start=100MiB\n", "desc line 2", "start= cannot follow a fill");
}

TEST(Validate, GptLimits) {
  std::string many = "label gpt\n";
  for (int i = 0; i < 129; ++i) many += "linux 1\n";
  ExpectError(many, "desc line 130", "at most 128");
}

TEST(Validate, MbrHasNoNamesOrPartuuids) {
  ExpectError("linux 1 name=root\n", "desc line 1", "name= needs a GPT disk");
  ExpectError("linux 1 partuuid=9D77528F-495B-404A-BFF9-B5D642A57D28\n", "desc line 1", "needs a GPT disk");
}

TEST(Validate, EspMustBeVfat) {
  ExpectError("label gpt\nefi 512 fs=ext4\n", "desc line 2", "EFI system partition must be vfat");
  EXPECT_TRUE(Check("label gpt\nefi 512 fs=vfat mount=/boot/efi\n").ok());
  EXPECT_TRUE(Check("label gpt\nefi 512\n").ok());
  EXPECT_TRUE(Check("efi 512 fs=vfat\n").ok());  // ESP on MBR: type ef
}

TEST(Validate, MountPoints) {
  ExpectError("linux 1 mount=/\n", "desc line 1", "needs fs=");
  ExpectError("swap 1 fs=swap mount=/swap\n", "desc line 1", "no mount point");
  ExpectError("linux 1 fs=ext4 mount=/\nlinux 1 fs=xfs mount=/\n", "desc line 2", "already used by desc line 1");
}

TEST(Validate, Numbers) {
  auto n = PartitionNumbers(*ParseDesc("linux 1\nextended fill\nlogical swap 1\nlogical linux fill\n"));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, (std::vector<int>{1, 2, 5, 6}));
  n = PartitionNumbers(*ParseDesc("label gpt\nlinux 1 number=3\nlinux 1\nlinux 1 number=1\n"));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, (std::vector<int>{3, 4, 1}));
  ExpectError("label gpt\nlinux 1\nlinux 1 number=1\n", "desc line 3", "already used by desc line 2");
  ExpectError("linux 1 number=4\nlinux 1\n", "desc line 2", "no primary slot left");
  ExpectError("linux 1 number=5\n", "desc line 1", "numbered 1 to 4");
  ExpectError("extended fill\nlogical linux 1 number=6\n", "desc line 2", "this one is 5");
}

}  // namespace
}  // namespace ka::layout
