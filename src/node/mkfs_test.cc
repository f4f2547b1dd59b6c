#include "node/mkfs.h"

#include <gtest/gtest.h>

#include "testing/fake_env.h"

namespace ka::node {
namespace {

using Argvs = std::vector<std::vector<std::string>>;
const char kUuid[] = "1B4E28BA-2FA1-11D2-883F-0016D3CCA427";
const char kUuidLower[] = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
const char kProc[] = "nodev\tsysfs\nnodev\tproc\n\text3\n\text2\n\text4\n\txfs\n\tbtrfs\n\tvfat\n";

Argvs Commands(const FsSpec& spec, const std::string& dev = "/dev/sda1") {
  os::FakeEnv r;
  auto c = MkfsCommands(spec, dev, r);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : Argvs{};
}

TEST(NodeMkfs, ArgvPerType) {
  EXPECT_EQ(Commands({"ext4", kUuid, "root", {}}),
            (Argvs{{"/usr/sbin/mkfs.ext4", "-F", "-q", "-U", kUuidLower, "-L", "root", "/dev/sda1"}}));
  EXPECT_EQ(Commands({"ext2", "", "", {"-b", "4096"}}),
            (Argvs{{"/usr/sbin/mkfs.ext2", "-F", "-q", "-b", "4096", "/dev/sda1"}}));
  EXPECT_EQ(Commands({"xfs", kUuid, "data", {}}),
            (Argvs{{"/usr/sbin/mkfs.xfs", "-f", "-q", "-m", std::string("uuid=") + kUuidLower, "-L", "data",
                    "/dev/sda1"}}));
  EXPECT_EQ(Commands({"btrfs", kUuid, "b", {}}),
            (Argvs{{"/usr/sbin/mkfs.btrfs", "-f", "-q", "-U", kUuidLower, "-L", "b", "/dev/sda1"}}));
  EXPECT_EQ(Commands({"vfat", "1234-abcd", "EFI", {"-F", "32"}}),
            (Argvs{{"/usr/sbin/mkfs.vfat", "-i", "1234ABCD", "-n", "EFI", "-F", "32", "/dev/sda1"}}));
  EXPECT_EQ(Commands({"swap", kUuid, "swap", {}}),
            (Argvs{{"/usr/sbin/mkswap", "-U", kUuidLower, "-L", "swap", "/dev/sda1"}}));
  EXPECT_EQ(Commands({"swap", "", "", {}}), (Argvs{{"/usr/sbin/mkswap", "/dev/sda1"}}));
  EXPECT_EQ(Commands({"jfs", kUuid, "j", {}}),
            (Argvs{{"/usr/sbin/jfs_mkfs", "-q", "-L", "j", "/dev/sda1"},
                   {"/usr/sbin/jfs_tune", "-U", kUuidLower, "/dev/sda1"}}));
  EXPECT_EQ(Commands({"jfs", "", "", {}}), (Argvs{{"/usr/sbin/jfs_mkfs", "-q", "/dev/sda1"}}));
  EXPECT_EQ(Commands({"reiserfs", kUuid, "r", {}}),
            (Argvs{{"/usr/sbin/mkreiserfs", "-q", "-u", kUuidLower, "-l", "r", "/dev/sda1"}}));
}

TEST(NodeMkfs, ToolPathsComeFromTheRunner) {
  os::FakeEnv r;
  r.tool_paths["mkfs.ext4"] = "/sbin/mkfs.ext4";
  auto c = MkfsCommands({"ext4", "", "", {}}, "/dev/vda2", r);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)[0][0], "/sbin/mkfs.ext4");
}

Status Validate(const std::string& type, const std::string& uuid, const std::string& label) {
  return ValidateFsSpec({type, uuid, label, {}});
}

TEST(NodeMkfs, LabelAndUuidFormats) {
  EXPECT_TRUE(Validate("ext4", kUuid, std::string(16, 'a')).ok());
  Status ext = Validate("ext4", "", std::string(17, 'a'));
  EXPECT_EQ(ext.message(), "ext4 label '" + std::string(17, 'a') + "' is 17 bytes long: ext4 labels hold at most 16");
  EXPECT_TRUE(Validate("xfs", "", "twelve_chars").ok());
  EXPECT_FALSE(Validate("xfs", "", "thirteen_char").ok());
  EXPECT_TRUE(Validate("vfat", "ABCD-0123", "EFI SYSTEM").ok());
  EXPECT_FALSE(Validate("vfat", "", "TWELVE_CHARS").ok());
  Status colon = Validate("vfat", "", "A:B");
  EXPECT_NE(colon.message().find("cannot contain"), std::string::npos);
  EXPECT_FALSE(Validate("vfat", "", "\xc3\xa9t\xc3\xa9").ok());
  Status volid = Validate("vfat", kUuid, "");
  EXPECT_NE(volid.message().find("1234-ABCD"), std::string::npos);
  EXPECT_FALSE(Validate("vfat", "1234ABCD", "").ok());
  EXPECT_FALSE(Validate("swap", "", std::string(17, 's')).ok());
  EXPECT_TRUE(Validate("btrfs", "", std::string(255, 'b')).ok());
  EXPECT_FALSE(Validate("btrfs", "", std::string(256, 'b')).ok());
  Status bad = Validate("btrfs", "1b4e28ba2fa111d2883f0016d3cca427", "");
  EXPECT_NE(bad.message().find("8-4-4-4-12"), std::string::npos);
  EXPECT_FALSE(Validate("ext4", "1b4e28ba-2fa1-11d2-883f-0016d3cca42g", "").ok());
  EXPECT_FALSE(Validate("ext4", "", "a\nb").ok());
  Status unknown = Validate("ntfs", "", "");
  EXPECT_EQ(unknown.message(),
            "unknown filesystem type 'ntfs': ka makes ext2, ext3, ext4, xfs, btrfs, vfat, swap, jfs, reiserfs");
  os::FakeEnv r;
  EXPECT_FALSE(MkfsCommands({"ext4", "", std::string(20, 'x'), {}}, "/dev/sda1", r).ok());
  EXPECT_FALSE(MakeFilesystem({"ext4", "nope", "", {}}, "/dev/sda1", r).ok());
  EXPECT_TRUE(r.runs.empty());  // nothing ran
}

TEST(NodeMkfs, SupportNeedsToolAndKernel) {
  os::FakeEnv r;
  EXPECT_TRUE(CheckFsSupported({"ext4", "", "", {}}, r, kProc).ok());
  EXPECT_TRUE(r.runs.empty());  // listed: no modprobe

  r.missing_tools = {"jfs_mkfs"};
  Status tool = CheckFsSupported({"jfs", "", "", {}}, r, kProc);
  EXPECT_NE(tool.message().find("jfs_mkfs not found"), std::string::npos);
  EXPECT_NE(tool.message().find("install the Debian package jfsutils"), std::string::npos);
  r.missing_tools = {"mkswap"};
  EXPECT_NE(CheckFsSupported({"swap", "", "", {}}, r, kProc).message().find("util-linux"), std::string::npos);
  r.missing_tools = {"jfs_tune"};
  EXPECT_FALSE(CheckFsSupported({"jfs", kUuid, "", {}}, r, "\tjfs\n").ok());
  r.missing_tools.clear();

  r.Script({"/usr/sbin/modprobe", "jfs"}, {1, "", "modprobe: FATAL: Module jfs not found in directory /lib/modules/6.1\n"});
  Status kernel = CheckFsSupported({"jfs", "", "", {}}, r, kProc);
  EXPECT_EQ(kernel.message().rfind("jfs is not supported by this kernel: ", 0), 0u) << kernel.message();
  EXPECT_NE(kernel.message().find("Module jfs not found"), std::string::npos);
  EXPECT_EQ(r.argvs().back(), (std::vector<std::string>{"/usr/sbin/modprobe", "jfs"}));

  // A filesystem built as a module shows up once modprobe loaded it.
  EXPECT_TRUE(CheckFsSupported({"reiserfs", "", "", {}}, r, kProc).ok());
  EXPECT_EQ(r.argvs().back(), (std::vector<std::string>{"/usr/sbin/modprobe", "reiserfs"}));
  // Swap needs no filesystem driver.
  size_t before = r.runs.size();
  EXPECT_TRUE(CheckFsSupported({"swap", "", "", {}}, r, "").ok());
  EXPECT_EQ(r.runs.size(), before);
  // Formats are checked first.
  EXPECT_FALSE(CheckFsSupported({"xfs", "", "label_too_long", {}}, r, kProc).ok());
}

TEST(NodeMkfs, MinimumSizes) {
  const uint64_t mib = 1 << 20;
  EXPECT_TRUE(CheckFsFits({"xfs", "", "", {}}, 300 * mib).ok());
  Status xfs = CheckFsFits({"xfs", "", "", {}}, 300 * mib - 4096);
  EXPECT_NE(xfs.message().find("xfs needs a partition of at least 300 MiB"), std::string::npos) << xfs.message();
  EXPECT_FALSE(CheckFsFits({"btrfs", "", "", {}}, 108 * mib).ok());
  EXPECT_TRUE(CheckFsFits({"btrfs", "", "", {}}, 109 * mib).ok());
  EXPECT_FALSE(CheckFsFits({"ext4", "", "", {}}, 1 * mib).ok());
  EXPECT_TRUE(CheckFsFits({"swap", "", "", {}}, 1 * mib).ok());
  EXPECT_FALSE(CheckFsFits({"nope", "", "", {}}, 1 << 30).ok());
  EXPECT_EQ(MinFsBytes("jfs"), 16 * mib);
}

TEST(NodeMkfs, MakeFilesystemRunsInOrderAndNamesTheFailure) {
  os::FakeEnv r;
  r.Script({"/usr/sbin/jfs_tune"}, {1, "", "jfs_tune: cannot open device\n"});
  Status s = MakeFilesystem({"jfs", kUuid, "", {}}, "/dev/sdb3", r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), std::string("making jfs on /dev/sdb3: /usr/sbin/jfs_tune -U ") + kUuidLower +
                             " /dev/sdb3 exited with status 1: jfs_tune: cannot open device");
  EXPECT_EQ(r.runs.size(), 2u);
}

}  // namespace
}  // namespace ka::node
