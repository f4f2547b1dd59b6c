#include "netboot/disk_pick.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ka::netboot {
namespace {

namespace fs = std::filesystem;

class DiskPickTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("ka-diskpick-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Add(const std::string& name, uint64_t sectors, bool removable = false) {
    fs::create_directories(root_ / name);
    std::ofstream(root_ / name / "size") << sectors << "\n";
    std::ofstream(root_ / name / "removable") << (removable ? 1 : 0) << "\n";
  }
  fs::path root_;
};

TEST_F(DiskPickTest, SkipsVirtualRemovableAndEmptyDevices) {
  Add("loop0", 2048);
  Add("ram0", 2048);
  Add("sr0", 2048);
  Add("sdb", 2048, /*removable=*/true);
  Add("sdc", 0);
  Add("sda", 4096);
  auto d = PickDisk(root_.string());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d.value(), "/dev/sda");
  auto all = ListFixedDisks(root_.string());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].bytes, 4096u * 512);
}

TEST_F(DiskPickTest, PrefersVirtioThenScsiThenNvmeAndShortNames) {
  Add("nvme0n1", 100);
  Add("sdaa", 100);
  Add("sdb", 100);
  Add("vdb", 100);
  Add("vda", 100);
  auto all = ListFixedDisks(root_.string());
  std::vector<std::string> names;
  for (auto& d : all) names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{"vda", "vdb", "sdb", "sdaa", "nvme0n1"}));
}

TEST_F(DiskPickTest, NoDiskNamesTheFix) {
  Add("loop3", 100);
  auto d = PickDisk(root_.string());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("ka.disk="), std::string::npos);
}

}  // namespace
}  // namespace ka::netboot
