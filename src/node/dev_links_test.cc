#include "node/dev_links.h"

#include <gtest/gtest.h>

#include <utility>

#include "node/temp_tree_for_test.h"
#include "testing/fake_env.h"

namespace ka::node {
namespace {

using Strings = std::vector<std::string>;

TEST(NodeDevLinks, EscapesAsUdevDoes) {
  EXPECT_EQ(UdevEscape("root"), "root");
  EXPECT_EQ(UdevEscape("my disk/1"), "my\\x20disk\\x2f1");
  EXPECT_EQ(UdevEscape("a#b+c-d.e:f=g@h_i"), "a#b+c-d.e:f=g@h_i");
  EXPECT_EQ(UdevEscape("café"), "café");          // valid UTF-8 stays
  EXPECT_EQ(UdevEscape(std::string("x\xff")), "x\\xff");  // an invalid byte does not
  EXPECT_EQ(UdevEscape("1234-ABCD"), "1234-ABCD");
}

TEST(NodeDevLinks, PartUuidsAsBlkidMakesThem) {
  layout::Table mbr;
  mbr.label = layout::TableLabel::kMbr;
  mbr.id = "0x6B61676F";
  layout::TableEntry e;
  e.number = 6;
  EXPECT_EQ(PartUuidOf(mbr, e), "6b61676f-06");
  e.number = 10;
  EXPECT_EQ(PartUuidOf(mbr, e), "6b61676f-0a");  // the number in hex
  mbr.id = "0x1234";
  EXPECT_EQ(PartUuidOf(mbr, e), "00001234-0a");
  layout::Table gpt;
  gpt.label = layout::TableLabel::kGpt;
  e.uuid = "6B610000-0000-4000-8000-000000000104";
  EXPECT_EQ(PartUuidOf(gpt, e), "6b610000-0000-4000-8000-000000000104");
}

TEST(NodeDevLinks, LinksOfADiskAndItsPartitions) {
  BlockNode disk{"nvme0n1", 259, 0, 0, "", "", "", "", "", {"nvme-QEMU_NVMe_Ctrl_deadbeef"}};
  BlockNode boot{"nvme0n1p1", 259, 1, 1, "ext4", "6b610000-0000-4000-8000-000000000001", "boot",
                 "6b610000-0000-4000-8000-000000000101", "boot", {"nvme-QEMU_NVMe_Ctrl_deadbeef-part1"}};
  BlockNode swap{"nvme0n1p3", 259, 3, 3, "swap", "6b610000-0000-4000-8000-000000000005", "my swap",
                 "6b610000-0000-4000-8000-000000000103", "", {}};
  auto links = UdevLinks({disk, boot, swap});
  std::vector<DevLink> want = {
      {"block/259:0", "../nvme0n1"},
      {"block/259:1", "../nvme0n1p1"},
      {"block/259:3", "../nvme0n1p3"},
      {"disk/by-id/nvme-QEMU_NVMe_Ctrl_deadbeef", "../../nvme0n1"},
      {"disk/by-id/nvme-QEMU_NVMe_Ctrl_deadbeef-part1", "../../nvme0n1p1"},
      {"disk/by-label/boot", "../../nvme0n1p1"},
      {"disk/by-label/my\\x20swap", "../../nvme0n1p3"},
      {"disk/by-partlabel/boot", "../../nvme0n1p1"},
      {"disk/by-partuuid/6b610000-0000-4000-8000-000000000101", "../../nvme0n1p1"},
      {"disk/by-partuuid/6b610000-0000-4000-8000-000000000103", "../../nvme0n1p3"},
      {"disk/by-uuid/6b610000-0000-4000-8000-000000000001", "../../nvme0n1p1"},
      {"disk/by-uuid/6b610000-0000-4000-8000-000000000005", "../../nvme0n1p3"},
  };
  EXPECT_EQ(links, want);
}

TEST(NodeDevLinks, TheFirstDeviceKeepsADuplicateName) {
  BlockNode a{"loop1p1", 259, 1, 1, "ext4", "u", "", "", "", {}};
  BlockNode b{"loop2p1", 259, 2, 1, "ext4", "u", "", "", "", {}};
  auto links = UdevLinks({a, b});
  ASSERT_EQ(links.size(), 3u);
  EXPECT_EQ(links[2], (DevLink{"disk/by-uuid/u", "../../loop1p1"}));
}

// sysfs of a virtio disk with a serial, an NVMe namespace, a SATA disk and a loop device.
void FakeSysfs(const TempTree& t) {
  const std::pair<std::string, std::string> files[] = {
      {"vda/dev", "254:0\n"},
      {"vda/serial", "KA-VIRTIO-1\n"},
      {"vda2/dev", "254:2\n"},
      {"nvme0n1/dev", "259:0\n"},
      {"nvme0n1/wwid", "nvme.1b36-6b61-51454d55204e564d65204374726c-00000001\n"},
      {"nvme0n1/device/model", "QEMU NVMe Ctrl                          \n"},
      {"nvme0n1/device/serial", "ka-nvme-1           \n"},
      {"sda/dev", "8:0\n"},
      {"sda/device/vendor", "ATA     \n"},
      {"sda/device/model", "QEMU HARDDISK   \n"},
      {"sda/device/vpd_pg80", std::string("\0\x80\0\x07QM00001", 11)},
      {"sdb/dev", "8:16\n"},
      {"sdb/device/vendor", "QEMU    \n"},
      {"sdb/device/model", "QEMU HARDDISK   \n"},
      {"sdb/device/wwid", "naa.5000C500ABCDEF01\n"},
      {"loop5/dev", "7:5\n"},
      {"loop5p6/dev", "259:6\n"},
      {"loop9/dev", "7:9\n"},
  };
  for (const auto& [rel, content] : files) t.Write("sys/class/block/" + rel, content);
}

TEST(NodeDevLinks, ByIdNamesFromSysfs) {
  TempTree t;
  FakeSysfs(t);
  const std::string sys = t / "sys";
  EXPECT_EQ(DiskIdNames(sys, "vda"), (Strings{"virtio-KA-VIRTIO-1"}));
  EXPECT_EQ(DiskIdNames(sys, "nvme0n1"), (Strings{"nvme-nvme.1b36-6b61-51454d55204e564d65204374726c-00000001",
                                                   "nvme-QEMU_NVMe_Ctrl_ka-nvme-1"}));
  EXPECT_EQ(DiskIdNames(sys, "sda"), (Strings{"ata-QEMU_HARDDISK_QM00001"}));
  EXPECT_EQ(DiskIdNames(sys, "sdb"), (Strings{"wwn-0x5000c500abcdef01"}));
  EXPECT_TRUE(DiskIdNames(sys, "loop5").empty());
}

TEST(NodeDevLinks, DescribesADiskWithKernelPartitionsAndOffsetLoops) {
  TempTree t;
  FakeSysfs(t);
  os::FakeEnv ops;
  auto& d = ops.AddDisk("/dev/loop5", 1 << 30);
  d.filesystems[1048576] = {"ext4", "6b610000-0000-4000-8000-000000000006", "root"};
  d.filesystems[2097152] = {"swap", "6b610000-0000-4000-8000-000000000005", ""};
  layout::Table table;
  table.label = layout::TableLabel::kMbr;
  table.id = "0x6b61676f";
  table.entries = {{6, 2048, 2048, "83", false, "", "", ""}, {5, 4096, 2048, "82", false, "", "", ""}};
  std::vector<layout::PartitionDevice> parts = {{6, "/dev/loop5p6", 1048576, 1048576, false},
                                                {5, "/dev/loop9", 2097152, 1048576, true}};
  auto nodes = DescribeDiskNodes(ops, t / "sys", d.info, table, parts);
  ASSERT_TRUE(nodes.ok()) << nodes.status().message();
  ASSERT_EQ(nodes->size(), 3u);
  EXPECT_EQ((*nodes)[0].name, "loop5");
  EXPECT_EQ((*nodes)[0].major, 7u);
  EXPECT_EQ((*nodes)[1].name, "loop5p6");
  EXPECT_EQ((*nodes)[1].minor, 6u);
  EXPECT_EQ((*nodes)[1].fs_uuid, "6b610000-0000-4000-8000-000000000006");
  EXPECT_EQ((*nodes)[1].fs_label, "root");
  EXPECT_EQ((*nodes)[1].partuuid, "6b61676f-06");
  EXPECT_EQ((*nodes)[2].name, "loop9");  // an offset loop: its own name, the table's PARTUUID
  EXPECT_EQ((*nodes)[2].partuuid, "6b61676f-05");
  EXPECT_EQ((*nodes)[2].fs_type, "swap");

  parts[0].path = "/dev/loop5p7";  // no such device in sysfs
  auto bad = DescribeDiskNodes(ops, t / "sys", d.info, table, parts);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("no device number for /dev/loop5p7"), std::string::npos);
}

TEST(NodeDevLinks, WritesLinksAndReplacesStaleOnes) {
  TempTree t;
  t.Mkdir("dev");
  t.Symlink("../../sdz9", "dev/disk/by-uuid/u1");  // stale: another target
  std::vector<DevLink> links = {{"disk/by-uuid/u1", "../../sda1"}, {"disk/by-label/root", "../../sda1"},
                                {"block/8:1", "../sda1"}};
  auto n = WriteDevLinks(t / "dev", links);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 3);
  EXPECT_EQ(t.LinkText("dev/disk/by-uuid/u1"), "../../sda1");
  EXPECT_EQ(t.LinkText("dev/disk/by-label/root"), "../../sda1");
  EXPECT_EQ(t.LinkText("dev/block/8:1"), "../sda1");
  EXPECT_EQ(t.Mode("dev/disk/by-label"), 0755u);
  auto again = WriteDevLinks(t / "dev", links);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);  // nothing to change
}

}  // namespace
}  // namespace ka::node
