#include "layout/describe.h"

#include <gtest/gtest.h>

#include "layout/apply.h"
#include "layout/desc_parser.h"
#include "layout/desc_writer.h"
#include "layout/layout_json.h"
#include "testing/fake_env.h"

namespace ka::layout {
namespace {

constexpr uint64_t kGiB = 1ull << 30;

TEST(Describe, TableAndFilesystems) {
  os::FakeEnv ops;
  auto& d = ops.AddDisk("/dev/sda", kGiB);
  auto l = ParseDesc("linux 300 boot\nextended fill\nlogical swap 100\nlogical linux fill\n");
  ASSERT_TRUE(ApplyLayout(ops, "/dev/sda", *l, {}).ok());
  d.filesystems[2048ull * 512] = {"ext4", "6b33710f-0f55-4e4e-8abe-54e96004c8b3", "root"};
  d.filesystems[618496ull * 512] = {"swap", "223d7259-243b-474c-88eb-af21b637844e", ""};
  auto r = DescribeDisk(ops, "/dev/sda");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(WriteDesc(r->layout),
            "label mbr id=0x12345678\n"
            "linux 300 boot fs=ext4 label=root uuid=6b33710f-0f55-4e4e-8abe-54e96004c8b3\n"
            "extended 723\n"
            "logical swap 100 fs=swap uuid=223d7259-243b-474c-88eb-af21b637844e\n"
            "logical linux 621\n");
  std::string json = DescriptionJson(*r);
  EXPECT_NE(json.find("\"fs\": \"ext4\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"node\": \"/dev/sda5\""), std::string::npos) << json;
}

TEST(Describe, CloneGoldenSdaToNvme) {
  os::FakeEnv ops;
  ops.AddDisk("/dev/sda", 4 * kGiB);
  ops.AddDisk("/dev/nvme0n1", 8 * kGiB);
  auto l = ParseDesc("label gpt\nefi 512MiB fs=vfat\nswap 1GiB\nlinux fill\n");
  ASSERT_TRUE(ApplyLayout(ops, "/dev/sda", *l, {}).ok());
  auto golden = DescribeDisk(ops, "/dev/sda");
  ASSERT_TRUE(golden.ok());
  auto text = WriteDesc(golden->layout);
  auto r = ApplyLayout(ops, "/dev/nvme0n1", *ParseDesc(text), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto clone = DescribeDisk(ops, "/dev/nvme0n1");
  ASSERT_TRUE(clone.ok());
  EXPECT_EQ(clone->table, golden->table);
  EXPECT_EQ(WriteDesc(clone->layout), text);
  EXPECT_EQ(r->devices[2].path, "/dev/nvme0n1p3");
}

TEST(Describe, NoTable) {
  os::FakeEnv ops;
  ops.AddDisk("/dev/sdc", kGiB);
  auto r = DescribeDisk(ops, "/dev/sdc");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/dev/sdc has no partition table"), std::string::npos);
}

TEST(Describe, DropsValuesADescCannotCarry) {
  os::FakeEnv ops;
  auto& d = ops.AddDisk("/dev/sda", kGiB);
  ASSERT_TRUE(ApplyLayout(ops, "/dev/sda", *ParseDesc("linux fill\n"), {}).ok());
  d.filesystems[2048ull * 512] = {"ext4", "not a uuid", "bad\nlabel"};
  auto r = DescribeDisk(ops, "/dev/sda");
  ASSERT_TRUE(r.ok());
  std::string text = WriteDesc(r->layout);
  EXPECT_TRUE(ParseDesc(text).ok()) << text;
  EXPECT_EQ(r->layout.partitions[0].fs, "ext4");
  EXPECT_TRUE(r->layout.partitions[0].uuid.empty());
  EXPECT_TRUE(r->layout.partitions[0].label.empty());
}

}  // namespace
}  // namespace ka::layout
