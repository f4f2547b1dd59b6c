// Unit tests of inspecting a golden through os::FakeEnv: an image file in memory,
// its partitions attached as loop devices and mounted through the fake.
#include "golden/inspect.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "layout/apply.h"
#include "layout/desc_parser.h"
#include "testing/fake_env.h"

namespace ka::golden {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
const char kImage[] = "/srv/golden.img";

bool Has(const std::vector<std::string>& calls, const std::string& prefix) {
  return std::any_of(calls.begin(), calls.end(), [&](const std::string& c) { return c.rfind(prefix, 0) == 0; });
}

// An image file with a table written by `desc` and these filesystems (by partition number).
class GoldenInspect : public testing::Test {
 protected:
  void MakeImage(const std::string& desc, const std::map<int, os::FsInfo>& filesystems) {
    env_.AddDisk(kImage, 1024 * kMiB, /*image=*/true);
    auto l = layout::ParseDesc(desc);
    ASSERT_TRUE(l.ok()) << l.status().message();
    auto applied = layout::ApplyLayout(env_, kImage, *l, {});
    ASSERT_TRUE(applied.ok()) << applied.status().message();
    auto& d = env_.disk(kImage);
    for (const auto& e : d.table.entries) {
      auto it = filesystems.find(e.number);
      if (it != filesystems.end()) d.filesystems[e.start * d.table.sector_size] = it->second;
    }
    // Writing the table of an image attached offset loop devices: not the golden's.
    for (const auto& loop : env_.loops()) ASSERT_TRUE(env_.DetachLoop(loop.device).ok());
    env_.disk_calls.clear();
  }

  // The loop devices attached, in order.
  std::vector<std::string> Attached() const {
    std::vector<std::string> v;
    for (const auto& c : env_.disk_calls)
      if (c.rfind("AttachLoop", 0) == 0) v.push_back(c.substr(c.rfind(' ') + 1));
    return v;
  }
  std::vector<std::string> Detached() const {
    std::vector<std::string> v;
    for (const auto& c : env_.disk_calls)
      if (c.rfind("DetachLoop ", 0) == 0) v.push_back(c.substr(11));
    return v;
  }

  uint64_t Offset(int number) {
    auto& d = env_.disk(kImage);
    for (const auto& e : d.table.entries)
      if (e.number == number) return e.start * d.table.sector_size;
    return 0;
  }

  os::FakeEnv env_;
};

const os::FsInfo kExt4{"ext4", "6b33710f-0f55-4e4e-8abe-54e96004c8b3", "root"};
const os::FsInfo kSwap{"swap", "223d7259-243b-474c-88eb-af21b637844e", ""};
const os::FsInfo kData{"ext4", "0e4f1d3c-5a43-4d6e-9a60-0a3f7a3b8e11", "data"};

TEST_F(GoldenInspect, AnImageIsAttachedReadOnlyAndEachFilesystemGetsItsMethod) {
  MakeImage("linux 200\nswap 100\nlinux 100\nlinux 50\n", {{1, kExt4}, {2, kSwap}, {3, kData}});
  InspectOptions o;
  o.source = kImage;
  o.raw_partitions = {3};
  auto g = Golden::Open(o, env_);
  ASSERT_TRUE(g.ok()) << g.status().message();
  const auto& parts = (*g)->parts();
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0].info.method, format::Method::kTree);  // ext4: file by file
  EXPECT_EQ(parts[1].info.method, format::Method::kSwap);  // swap: nothing travels
  EXPECT_EQ(parts[2].info.method, format::Method::kRaw);   // --raw-partition 3
  EXPECT_EQ(parts[3].info.method, format::Method::kNone);  // no filesystem
  EXPECT_EQ(parts[2].info.used, parts[2].info.size);
  EXPECT_EQ((*g)->manifest().golden_disk, 1024 * kMiB);
  EXPECT_EQ((*g)->manifest().source, kImage);
  EXPECT_EQ((*g)->manifest().partitions[0].uuid, kExt4.uuid);

  // Only the streamed partitions are attached, read-only, at their offsets.
  EXPECT_TRUE(Has(env_.disk_calls, "AttachLoop " + std::string(kImage) + " " + std::to_string(Offset(1)) + " " +
                                       std::to_string(200 * kMiB) + " read-only -> "));
  EXPECT_TRUE(Has(env_.disk_calls, "AttachLoop " + std::string(kImage) + " " + std::to_string(Offset(3)) + " " +
                                       std::to_string(100 * kMiB) + " read-only -> "));
  EXPECT_EQ(env_.loops().size(), 2u);
  for (const auto& c : env_.disk_calls) {
    if (c.rfind("AttachLoop", 0) == 0) {
      EXPECT_NE(c.find("read-only"), std::string::npos) << c;
    }
  }

  // The tree partition is mounted read-only without journal replay, the raw one not at all.
  ASSERT_FALSE(parts[0].dir.empty());
  EXPECT_EQ(Attached(), (std::vector<std::string>{parts[0].device, parts[2].device}));
  EXPECT_TRUE(parts[2].dir.empty());
  EXPECT_EQ(env_.mount_calls, (std::vector<std::string>{"ext4 " + parts[0].dir + " ro,nosuid,nodev noload"}));

  // Close unmounts, then detaches last first.
  const std::string dir = parts[0].dir;
  ASSERT_TRUE((*g)->Close().ok());
  EXPECT_EQ(env_.mount_calls.back(), "umount " + dir);
  EXPECT_EQ(Detached(), (std::vector<std::string>{parts[2].device, parts[0].device}));
  EXPECT_TRUE(env_.loops().empty());
  EXPECT_NE(::access(dir.c_str(), F_OK), 0) << "mount point left behind";
}

TEST_F(GoldenInspect, AFilesystemThatCannotTravelFileByFileIsRefusedBeforeAnythingIsAttached) {
  MakeImage("linux 200\nlinux 100\n", {{1, kExt4}, {2, {"ntfs", "0123456789ABCDEF", ""}}});
  InspectOptions o;
  o.source = kImage;
  auto g = Golden::Open(o, env_);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), Status::Code::kInvalid);
  EXPECT_NE(g.status().message().find("--raw-partition 2"), std::string::npos) << g.status().message();
  EXPECT_FALSE(Has(env_.disk_calls, "AttachLoop"));
  EXPECT_TRUE(env_.mount_calls.empty());

  // Copied block for block, it is accepted.
  o.raw_partitions = {2};
  env_.disk_calls.clear();
  auto raw = Golden::Open(o, env_);
  ASSERT_TRUE(raw.ok()) << raw.status().message();
  EXPECT_EQ((*raw)->parts()[1].info.method, format::Method::kRaw);
}

TEST_F(GoldenInspect, AFailedMountDetachesWhatWasAttached) {
  MakeImage("linux 100\nlinux 200\n", {{1, kData}, {2, kExt4}});
  env_.fail_fstypes = {"ext4"};
  InspectOptions o;
  o.source = kImage;
  o.raw_partitions = {1};  // attached, not mounted; then partition 2's mount fails
  auto g = Golden::Open(o, env_);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("golden partition 2"), std::string::npos) << g.status().message();
  EXPECT_NE(g.status().message().find("the kernel does not support ext4"), std::string::npos)
      << g.status().message();
  auto attached = Attached();
  ASSERT_EQ(attached.size(), 2u);
  EXPECT_EQ(Detached(), (std::vector<std::string>{attached[1], attached[0]}));
  EXPECT_TRUE(env_.loops().empty());
}

TEST_F(GoldenInspect, TheGoldensOwnDiskCannotBeExcluded) {
  MakeImage("linux 100\n", {{1, kExt4}});
  InspectOptions o;
  o.source = kImage;
  o.exclude_disk = {kImage};
  auto g = Golden::Open(o, env_);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("excludes the golden's own disk"), std::string::npos);
  EXPECT_TRUE(env_.disk_calls.empty());
}

// The running system's disk, found from "/" in mountinfo through sysfs.
TEST(GoldenDiskOfRoot, ThePartitionsDisk) {
  os::FakeEnv env;
  env.AddFile("/proc/self/mountinfo",
              "22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw\n"
              "23 22 0:21 / /proc rw shared:2 - proc proc rw\n");
  env.AddFile("/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/block/sda/sda2/partition", "2\n");
  env.symlinks["/sys/dev/block/8:2"] = "/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/block/sda/sda2";
  EXPECT_EQ(DiskOfRoot(env).value_or("?"), "/dev/sda");
}

TEST(GoldenDiskOfRoot, NotABlockDeviceOrNotAPartitionIsRefusedWithTheReason) {
  os::FakeEnv overlay;
  overlay.AddFile("/proc/self/mountinfo", "22 1 0:31 / / rw shared:1 - overlay overlay rw\n");
  auto a = DiskOfRoot(overlay);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("not a block device"), std::string::npos) << a.status().message();
  EXPECT_NE(a.status().message().find("--source"), std::string::npos);

  os::FakeEnv whole;  // a filesystem on the whole disk (or LVM, RAID): no "partition" in sysfs
  whole.AddFile("/proc/self/mountinfo", "22 1 254:0 / / rw shared:1 - ext4 /dev/vda rw\n");
  whole.AddFile("/sys/devices/virtual/block/vda/size", "2097152\n");
  whole.symlinks["/sys/dev/block/254:0"] = "/sys/devices/virtual/block/vda";
  auto b = DiskOfRoot(whole);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("not a partition of a disk"), std::string::npos) << b.status().message();

  os::FakeEnv no_root;
  no_root.AddFile("/proc/self/mountinfo", "");
  EXPECT_FALSE(DiskOfRoot(no_root).ok());
}

}  // namespace
}  // namespace ka::golden
