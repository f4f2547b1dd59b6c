#include "netboot/disk_pick.h"

#include <gtest/gtest.h>

#include "testing/fake_env.h"

namespace ka::netboot {
namespace {

class DiskPickTest : public ::testing::Test {
 protected:
  void Add(const std::string& name, uint64_t sectors, bool removable = false) {
    env_.AddFile("/sys/block/" + name + "/size", std::to_string(sectors) + "\n");
    env_.AddFile("/sys/block/" + name + "/removable", removable ? "1\n" : "0\n");
  }
  os::FakeEnv env_;
};

TEST_F(DiskPickTest, SkipsVirtualRemovableAndEmptyDevices) {
  Add("loop0", 2048);
  Add("ram0", 2048);
  Add("sr0", 2048);
  Add("sdb", 2048, /*removable=*/true);
  Add("sdc", 0);
  Add("sda", 4096);
  auto d = PickDisk(env_);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d.value(), "/dev/sda");
  auto all = ListFixedDisks(env_);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].bytes, 4096u * 512);
}

TEST_F(DiskPickTest, PrefersVirtioThenScsiThenNvmeAndShortNames) {
  Add("nvme0n1", 100);
  Add("sdaa", 100);
  Add("sdb", 100);
  Add("vdb", 100);
  Add("vda", 100);
  auto all = ListFixedDisks(env_);
  std::vector<std::string> names;
  for (auto& d : all) names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{"vda", "vdb", "sdb", "sdaa", "nvme0n1"}));
}

TEST_F(DiskPickTest, NoDiskNamesTheFix) {
  Add("loop3", 100);
  auto d = PickDisk(env_);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("ka.disk="), std::string::npos);
}

TEST_F(DiskPickTest, NoSysBlockIsNoDisk) {
  os::FakeEnv empty;
  EXPECT_TRUE(ListFixedDisks(empty).empty());
  EXPECT_FALSE(PickDisk(empty).ok());
}

}  // namespace
}  // namespace ka::netboot
