#include "node/boot_config_check.h"

#include <gtest/gtest.h>

namespace ka::node {
namespace {

const char kGolden[] = R"(### BEGIN /etc/grub.d/10_linux ###
menuentry 'Debian GNU/Linux' --class debian {
	search --no-floppy --fs-uuid --set=root --hint-bios=hd0,msdos1 6b610000-0000-4000-8000-000000000001
	echo	'Loading Linux 6.1.0-50-amd64 ...'
	linux	/vmlinuz-6.1.0-50-amd64 root=UUID=6b610000-0000-4000-8000-000000000006 ro  console=ttyS0,115200n8
	initrd	/initrd.img-6.1.0-50-amd64
}
)";

TEST(NodeBootConfigCheck, ClassifiesRoots) {
  EXPECT_EQ(ClassifyRoot("UUID=abc"), RootKind::kUuid);
  EXPECT_EQ(ClassifyRoot("/dev/disk/by-uuid/abc"), RootKind::kUuid);
  EXPECT_EQ(ClassifyRoot("PARTUUID=6b61676f-06"), RootKind::kPartUuid);
  EXPECT_EQ(ClassifyRoot("LABEL=root"), RootKind::kLabel);
  EXPECT_EQ(ClassifyRoot("/dev/disk/by-partlabel/root"), RootKind::kPartLabel);
  EXPECT_EQ(ClassifyRoot("/dev/sda6"), RootKind::kDevicePath);
  EXPECT_EQ(ClassifyRoot("/dev/loop0p6"), RootKind::kDevicePath);
  EXPECT_EQ(ClassifyRoot("/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001-part6"), RootKind::kDevicePath);
  EXPECT_EQ(ClassifyRoot("/dev/mapper/vg-root"), RootKind::kOther);
  EXPECT_EQ(ClassifyRoot("ZFS=rpool/ROOT"), RootKind::kOther);
}

TEST(NodeBootConfigCheck, FindsKernelLines) {
  auto lines = KernelLines(kGolden);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].line, 5);
  EXPECT_EQ(lines[0].root, "UUID=6b610000-0000-4000-8000-000000000006");
  auto quoted = KernelLines("  linux16 /boot/vmlinuz 'root=LABEL=my root' ro\nkernel /vmlinuz root=/dev/hda1\n");
  ASSERT_EQ(quoted.size(), 2u);
  EXPECT_EQ(quoted[1].root, "/dev/hda1");
}

TEST(NodeBootConfigCheck, TheSameUuidPasses) {
  EXPECT_TRUE(CheckBootConfig(kGolden, kGolden, "/boot/grub/grub.cfg", {"loop5", "loop5p1", "loop5p6"}).ok());
  EXPECT_TRUE(CheckBootConfig("", kGolden, "/boot/grub/grub.cfg", {"vda"}).ok());  // no golden config
}

TEST(NodeBootConfigCheck, ADevicePathOfTheCloningHostFails) {
  std::string clone = kGolden;
  clone.replace(clone.find("UUID=6b61"), 41, "/dev/loop5p6");
  Status s = CheckBootConfig(kGolden, clone, "/boot/grub/grub.cfg", {"loop5", "loop5p6"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "the clone's /boot/grub/grub.cfg names the root filesystem by device path root=/dev/loop5p6, a name that "
            "depends on the machine and its disk controller (line 5: 'linux\t/vmlinuz-6.1.0-50-amd64 "
            "root=/dev/loop5p6 ro  console=ttyS0,115200n8'); the golden's named it by UUID "
            "(UUID=6b610000-0000-4000-8000-000000000006)");
  // anywhere else in the file
  std::string other = std::string(kGolden) + "\tset ka_disk=/dev/loop5p1\n";
  Status o = CheckBootConfig(kGolden, other, "/boot/grub/grub.cfg", {"loop5", "loop5p1"});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.message(),
            "the clone's /boot/grub/grub.cfg line 8 names /dev/loop5p1, a device of the machine that made the clone, "
            "which the clone will not have when it boots: 'set ka_disk=/dev/loop5p1'");
}

TEST(NodeBootConfigCheck, ADevicePathAnywhereFailsAndSaysWhatTheGoldenDid) {
  std::string clone = kGolden;
  clone.replace(clone.find("UUID=6b61"), 41, "/dev/sda6");
  Status s = CheckBootConfig(kGolden, clone, "/boot/grub/grub.cfg", {"vda", "vda1", "vda6"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("names the root filesystem by device path root=/dev/sda6"), std::string::npos);
  EXPECT_NE(s.message().find("the golden's named it by UUID (UUID=6b610000"), std::string::npos);

  // the golden itself used a device path
  Status g = CheckBootConfig(clone, clone, "/boot/grub/grub.cfg", {"vda"});
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.message().find("the golden's own grub.cfg does the same (line 5: root=/dev/sda6)"), std::string::npos)
      << g.message();
  EXPECT_NE(g.message().find("GRUB_DISABLE_LINUX_UUID"), std::string::npos);
}

TEST(NodeBootConfigCheck, AnotherKindOrValueOrNoKernelFails) {
  std::string partuuid = kGolden;
  partuuid.replace(partuuid.find("UUID=6b61"), 41, "PARTUUID=6b61676f-06");
  Status k = CheckBootConfig(kGolden, partuuid, "/boot/grub/grub.cfg", {});
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.message().find("by PARTUUID where the golden's used UUID"), std::string::npos);

  std::string other = kGolden;
  other.replace(other.find("000000000006"), 12, "0000000000ff");
  Status v = CheckBootConfig(kGolden, other, "/boot/grub/grub.cfg", {});
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.message().find("not the golden's root filesystem (UUID=6b610000-0000-4000-8000-000000000006)"),
            std::string::npos);

  Status none = CheckBootConfig(kGolden, "set timeout=5\n", "/boot/grub/grub.cfg", {});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.message().find("has no kernel line"), std::string::npos);

  Status noroot = CheckBootConfig("", "linux /vmlinuz ro quiet\n", "/boot/grub/grub.cfg", {});
  ASSERT_FALSE(noroot.ok());
  EXPECT_NE(noroot.message().find("without root="), std::string::npos);
}

TEST(NodeBootConfigCheck, CommentsAndSimilarNamesDoNotCount) {
  std::string clone = std::string("# made on /dev/loop5p6\n") + kGolden;
  EXPECT_TRUE(CheckBootConfig(kGolden, clone, "/boot/grub/grub.cfg", {"loop5p6"}).ok());
  // /dev/vda does not name vda1's host device "vda10"... and /dev/vda1 is not /dev/vda
  EXPECT_TRUE(CheckBootConfig("", "linux /v root=UUID=x\nset d=/dev/vda10\n", "c", {"vda1"}).ok());
}

}  // namespace
}  // namespace ka::node
