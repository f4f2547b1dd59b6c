#include "layout/apply.h"

#include <gtest/gtest.h>

#include "layout/desc_parser.h"
#include "testing/fake_env.h"

namespace ka::layout {
namespace {

constexpr uint64_t kGiB = 1ull << 30;

Layout Desc(const std::string& text) {
  auto l = ParseDesc(text);
  EXPECT_TRUE(l.ok()) << l.status().message();
  return l.ok() ? *l : Layout{};
}

const char* kSeed = "linux 300 boot\nextended fill\nlogical swap 100\nlogical linux fill\n";

TEST(Apply, WritesValidatedTableThenExposes) {
  os::FakeEnv ops;
  ops.AddDisk("/dev/vda", kGiB);
  auto r = ApplyLayout(ops, "/dev/vda", Desc(kSeed), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(ops.disk_calls, (std::vector<std::string>{"Inspect /dev/vda", "Users /dev/vda", "CheckScript /dev/vda",
                                                 "ForgetKernelPartitions /dev/vda", "WipeSignatures /dev/vda",
                                                 "WriteTable /dev/vda", "ReadTableJson /dev/vda",
                                                 "UpdateKernelPartitions /dev/vda"}));
  const Table& t = ops.disk("/dev/vda").table;
  ASSERT_EQ(t.entries.size(), 4u);
  EXPECT_TRUE(t.entries[0].bootable);
  EXPECT_EQ(t.entries[3].number, 6);
  ASSERT_EQ(r->devices.size(), 3u);
  EXPECT_EQ(r->devices[0].path, "/dev/vda1");
  EXPECT_EQ(r->devices[2].path, "/dev/vda6");
}

TEST(Apply, TooSmallDiskIsNotTouched) {
  os::FakeEnv ops;
  auto& d = ops.AddDisk("/dev/sdb", 512ull << 20);
  d.has_table = true;
  d.table.entries = {{1, 2048, 1000, "83", false, "", "", ""}};
  Table before = d.table;
  auto r = ApplyLayout(ops, "/dev/sdb", Desc("linux 3500\nextended fill\nlogical swap 500\nlogical linux fill\n"), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  EXPECT_NE(r.status().message().find("desc line 1: does not fit"), std::string::npos) << r.status().message();
  EXPECT_FALSE(ops.wrote_anything());
  EXPECT_EQ(ops.disk("/dev/sdb").table, before);
}

TEST(Apply, InvalidLayoutIsNotTouched) {
  os::FakeEnv ops;
  ops.AddDisk("/dev/sdb", kGiB);
  auto r = ApplyLayout(ops, "/dev/sdb", Desc("linux 300\nlogical swap 100\n"), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "desc line 2: logical partition without an extended partition");
  EXPECT_FALSE(ops.wrote_anything());
}

TEST(Apply, DiskInUseIsRefused) {
  os::FakeEnv ops;
  ops.AddDisk("/dev/sdb", kGiB);
  ops.users = {"/dev/sdb1 is mounted on /mnt: unmount it first"};
  auto r = ApplyLayout(ops, "/dev/sdb", Desc(kSeed), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kRefused);
  EXPECT_NE(r.status().message().find("/dev/sdb1 is mounted on /mnt"), std::string::npos);
  EXPECT_FALSE(ops.wrote_anything());
}

TEST(Apply, SfdiskRefusalWritesNothing) {
  os::FakeEnv ops;
  ops.AddDisk("/dev/sdb", kGiB);
  ops.check_script_result = Status::Io("sfdisk --no-act exited with status 1: Start sector 63 out of range");
  auto r = ApplyLayout(ops, "/dev/sdb", Desc(kSeed), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nothing was written"), std::string::npos);
  EXPECT_FALSE(ops.wrote_anything());
}

TEST(Apply, DryRunWritesNothing) {
  os::FakeEnv ops;
  ops.AddDisk("/dev/sdb", kGiB);
  ApplyOptions o;
  o.dry_run = true;
  auto r = ApplyLayout(ops, "/dev/sdb", Desc(kSeed), o);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(ops.wrote_anything());
  EXPECT_NE(r->script.find("/dev/sdb5 : start=618496, size=204800, type=82"), std::string::npos) << r->script;
  EXPECT_TRUE(r->devices.empty());
}

TEST(Apply, MissingDisk) {
  os::FakeEnv ops;
  auto r = ApplyLayout(ops, "/dev/nope", Desc(kSeed), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/dev/nope"), std::string::npos);
}

TEST(Apply, ReplacesOldPartitionLoops) {
  os::FakeEnv ops;
  ops.AddDisk("/dev/loop0", kGiB);
  ops.partition_nodes_appear = false;
  ASSERT_TRUE(ApplyLayout(ops, "/dev/loop0", Desc(kSeed), {}).ok());
  EXPECT_EQ(ops.loops().size(), 3u);
  auto r = ApplyLayout(ops, "/dev/loop0", Desc("label gpt\nefi 100 fs=vfat\nlinux fill\n"), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(ops.loops().size(), 2u);  // the three old ones were detached first
  EXPECT_EQ(ops.disk("/dev/loop0").table.label, TableLabel::kGpt);
}

TEST(Apply, GptFromNvmeToVda) {
  os::FakeEnv ops;
  ops.AddDisk("/dev/nvme0n1", 2 * kGiB);
  auto r = ApplyLayout(ops, "/dev/nvme0n1", Desc("label gpt\nefi 512MiB fs=vfat\nlinux fill boot\n"), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->devices[0].path, "/dev/nvme0n1p1");
  EXPECT_EQ(r->devices[1].path, "/dev/nvme0n1p2");
  EXPECT_TRUE(ops.disk("/dev/nvme0n1").table.entries[1].bootable);
}

}  // namespace
}  // namespace ka::layout
