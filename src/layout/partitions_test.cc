#include "layout/partitions.h"

#include <gtest/gtest.h>

#include "os/part_name.h"
#include "testing/fake_env.h"

namespace ka::layout {
namespace {

constexpr uint64_t kGiB = 1ull << 30;

TEST(PartName, KernelNaming) {
  EXPECT_EQ(os::PartitionNodeName("/dev/sda", 1), "/dev/sda1");
  EXPECT_EQ(os::PartitionNodeName("/dev/vda", 5), "/dev/vda5");
  EXPECT_EQ(os::PartitionNodeName("/dev/hda", 2), "/dev/hda2");
  EXPECT_EQ(os::PartitionNodeName("/dev/nvme0n1", 1), "/dev/nvme0n1p1");
  EXPECT_EQ(os::PartitionNodeName("/dev/mmcblk0", 2), "/dev/mmcblk0p2");
  EXPECT_EQ(os::PartitionNodeName("/dev/loop0", 6), "/dev/loop0p6");
  EXPECT_EQ(os::PartitionNodeName("/dev/loop12", 1), "/dev/loop12p1");
  EXPECT_EQ(os::PartitionNodeName("/dev/md0", 1), "/dev/md0p1");
  EXPECT_EQ(os::PartitionNodeName("/srv/disk.img", 1), "/srv/disk.img1");
}

Table SeedTable() {
  Table t;
  t.entries = {{1, 2048, 614400, "83", false, "", "", ""},
               {2, 616448, 1480704, "5", false, "", "", ""},
               {5, 618496, 204800, "82", false, "", "", ""},
               {6, 825344, 1271808, "83", false, "", "", ""}};
  return t;
}

class Expose : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& d = ops_.AddDisk("/dev/loop0", kGiB);
    d.table = SeedTable();
    d.has_table = true;
    disk_ = d.info;
  }
  os::FakeEnv ops_;
  os::DiskInfo disk_;
};

TEST_F(Expose, KernelDevicesWhenTheyAppear) {
  auto r = ExposePartitions(ops_, disk_, SeedTable(), ExposeMode::kAuto);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 3u);  // the extended container is no data partition
  EXPECT_EQ((*r)[0].path, "/dev/loop0p1");
  EXPECT_EQ((*r)[1].path, "/dev/loop0p5");
  EXPECT_EQ((*r)[1].offset, 618496ull * 512);
  EXPECT_EQ((*r)[2].path, "/dev/loop0p6");
  EXPECT_FALSE((*r)[2].offset_loop);
  EXPECT_TRUE(ops_.loops().empty());
}

TEST_F(Expose, OffsetLoopsWhenNodesNeverAppear) {
  ops_.partition_nodes_appear = false;
  auto r = ExposePartitions(ops_, disk_, SeedTable(), ExposeMode::kAuto);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_TRUE((*r)[0].offset_loop);
  EXPECT_EQ((*r)[0].path, "/dev/loop100");
  auto loops = ops_.loops();
  ASSERT_EQ(loops.size(), 3u);
  EXPECT_EQ(loops[0].offset, 2048ull * 512);
  EXPECT_EQ(loops[0].size_limit, 614400ull * 512);
  EXPECT_GT(ops_.pauses, 0);  // it waited for udev first
  auto released = ReleasePartitions(ops_, disk_);
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(released->size(), 3u);
  EXPECT_TRUE(ops_.loops().empty());
}

TEST_F(Expose, OffsetLoopsWhenTheKernelCannot) {
  ops_.kernel_knows_partitions = false;
  auto r = ExposePartitions(ops_, disk_, SeedTable(), ExposeMode::kAuto);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE((*r)[0].offset_loop);
  EXPECT_LE(ops_.pauses, 10);  // short grace only: the kernel does not know them at all
}

TEST_F(Expose, KernelModeFailsClearly) {
  ops_.partition_nodes_appear = false;
  auto r = ExposePartitions(ops_, disk_, SeedTable(), ExposeMode::kKernel);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/dev/loop0p1 did not appear"), std::string::npos) << r.status().message();
  EXPECT_TRUE(ops_.loops().empty());
}

TEST_F(Expose, LoopModeAndImages) {
  auto r = ExposePartitions(ops_, disk_, SeedTable(), ExposeMode::kLoop);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)[0].offset_loop);
  auto& img = ops_.AddDisk("/srv/disk.img", kGiB, /*image=*/true);
  auto i = ExposePartitions(ops_, img.info, SeedTable(), ExposeMode::kAuto);
  ASSERT_TRUE(i.ok());
  EXPECT_TRUE((*i)[0].offset_loop);
  EXPECT_FALSE(ExposePartitions(ops_, img.info, SeedTable(), ExposeMode::kKernel).ok());
}

TEST_F(Expose, StaleGeometryIsNotTrusted) {
  // The kernel still has an old table for the disk: its p1 is elsewhere.
  ASSERT_TRUE(ops_.UpdateKernelPartitions("/dev/loop0").ok());
  Table moved = SeedTable();
  moved.entries[0].start = 4096;
  moved.entries[0].size = 612352;
  ops_.kernel_knows_partitions = false;  // and partx cannot fix it
  auto r = ExposePartitions(ops_, disk_, moved, ExposeMode::kAuto);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)[0].offset_loop);
  EXPECT_EQ((*r)[0].offset, 4096ull * 512);
}

TEST_F(Expose, DevicePathOfPartitionN) {
  // Nothing exposed yet.
  auto none = PartitionDevicePath(ops_, disk_, SeedTable(), 6);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("has no device"), std::string::npos);
  ASSERT_TRUE(ExposePartitions(ops_, disk_, SeedTable(), ExposeMode::kAuto).ok());
  EXPECT_EQ(*PartitionDevicePath(ops_, disk_, SeedTable(), 6), "/dev/loop0p6");
  EXPECT_FALSE(PartitionDevicePath(ops_, disk_, SeedTable(), 2).ok());  // the extended container
  EXPECT_FALSE(PartitionDevicePath(ops_, disk_, SeedTable(), 3).ok());  // no such partition
  // Offset loop devices, found again by their offset and size.
  os::FakeEnv loops;
  loops.AddDisk("/dev/loop0", kGiB);
  loops.partition_nodes_appear = false;
  auto made = ExposePartitions(loops, disk_, SeedTable(), ExposeMode::kAuto);
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(*PartitionDevicePath(loops, disk_, SeedTable(), 5), (*made)[1].path);
}

TEST_F(Expose, ReleaseLeavesForeignLoopsAlone) {
  auto own = ops_.AttachLoop("/dev/loop0", 0, 0, false);  // e.g. someone's whole-disk loop
  ASSERT_TRUE(own.ok());
  auto part = ops_.AttachLoop("/dev/loop0", 1 << 20, 1 << 20, false);
  auto other = ops_.AttachLoop("/dev/sdb", 1 << 20, 1 << 20, false);
  auto released = ReleasePartitions(ops_, disk_);
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(*released, std::vector<std::string>{*part});
  EXPECT_EQ(ops_.loops().size(), 2u);
}

}  // namespace
}  // namespace ka::layout
