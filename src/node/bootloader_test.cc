#include "node/bootloader.h"

#include <gtest/gtest.h>

#include "layout/desc_parser.h"
#include "node/temp_tree_for_test.h"
#include "testing/error_of.h"
#include "testing/fake_env.h"

namespace ka::node {
namespace {

using Argvs = std::vector<std::vector<std::string>>;

void DebianGrub(const TempTree& t) {
  t.Symlink("usr/sbin", "root/sbin");
  t.Write("root/usr/sbin/grub-install", "", 0755);
  t.Write("root/usr/sbin/grub-mkconfig", "", 0755);
  t.Mkdir("root/usr/lib/grub/i386-pc");
  t.Mkdir("root/usr/lib/grub/x86_64-efi");
}

TEST(NodeBootloader, Detect) {
  TempTree deb, rhel, lilo, none;
  DebianGrub(deb);
  rhel.Write("root/usr/sbin/grub2-install", "", 0755);
  rhel.Write("root/usr/sbin/grub2-mkconfig", "", 0755);
  lilo.Write("root/sbin/lilo", "", 0755);
  none.Mkdir("root/etc");
  EXPECT_EQ(DetectBootloader(deb / "root").value_or(BootloaderKind::kAuto), BootloaderKind::kGrub);
  EXPECT_EQ(DetectBootloader(rhel / "root").value_or(BootloaderKind::kAuto), BootloaderKind::kGrub);
  EXPECT_EQ(DetectBootloader(lilo / "root").value_or(BootloaderKind::kAuto), BootloaderKind::kLilo);
  EXPECT_EQ(DetectBootloader(none / "root").value_or(BootloaderKind::kAuto), BootloaderKind::kNone);

  EXPECT_EQ(CheckBootloader(BootloaderKind::kLilo, deb / "root").message(),
            "--bootloader lilo: the golden image has no /sbin/lilo; use grub or none");
  EXPECT_EQ(CheckBootloader(BootloaderKind::kGrub, lilo / "root").message(),
            "--bootloader grub: the golden image has no grub-install or grub2-install (in /usr/sbin or /sbin); use "
            "lilo or none");
  EXPECT_EQ(CheckBootloader(BootloaderKind::kLilo, none / "root").message(),
            "--bootloader lilo: the golden image has no /sbin/lilo; use none");
  EXPECT_TRUE(CheckBootloader(BootloaderKind::kGrub, rhel / "root").ok());
  EXPECT_TRUE(CheckBootloader(BootloaderKind::kAuto, none / "root").ok());
  EXPECT_TRUE(CheckBootloader(BootloaderKind::kNone, none / "root").ok());

  EXPECT_EQ(ParseBootloader("lilo").value_or(BootloaderKind::kAuto), BootloaderKind::kLilo);
  EXPECT_EQ(ParseBootloader("grub2").status().message(), "--bootloader grub2: use auto, grub, lilo or none");
}

BootTarget Target(const std::string& desc) {
  auto l = layout::ParseDesc(desc);
  EXPECT_TRUE(l.ok()) << l.status().message();
  auto t = DecideBootTarget(*l, "/dev/sda");
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.value_or({});
}

TEST(NodeBootloader, TargetFromTheLayout) {
  struct Case {
    const char* desc;
    BootTarget want;
  };
  for (const Case& c : {
           Case{"linux 3500\nextended fill\nlogical swap 500\nlogical linux fill\n", {true, false, "/dev/sda", ""}},
           Case{"label gpt\nefi 512MiB fs=vfat mount=/boot/efi\nlinux fill fs=ext4 mount=/\n",
                {false, true, "/dev/sda", "/boot/efi"}},
           Case{"label gpt\nbios 1MiB\nefi 100MiB fs=vfat mount=/efi\nlinux fill fs=ext4 mount=/\n",
                {true, true, "/dev/sda", "/efi"}},
           Case{"label mbr\nefi 100MiB fs=vfat mount=/boot/efi\nlinux fill fs=ext4 mount=/\n",
                {true, true, "/dev/sda", "/boot/efi"}},
       }) {
    SCOPED_TRACE(c.desc);
    BootTarget t = Target(c.desc);
    EXPECT_EQ(t.bios, c.want.bios);
    EXPECT_EQ(t.efi, c.want.efi);
    EXPECT_EQ(t.disk, c.want.disk);
    EXPECT_EQ(t.efi_dir, c.want.efi_dir);
  }

  auto l = layout::ParseDesc("label gpt\nefi 512MiB fs=vfat\nlinux fill fs=ext4 mount=/\n");  // ESP without mount
  ASSERT_TRUE(l.ok());
  auto none = DecideBootTarget(*l, "/dev/vda");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message().rfind("nothing to boot from on /dev/vda: a GPT disk needs a bios_grub partition", 0),
            0u);
}

Argvs Commands(BootloaderKind kind, const BootTarget& t, const std::string& root) {
  auto c = BootloaderCommands(kind, t, root, "/usr/sbin/chroot");
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.value_or({});
}

TEST(NodeBootloader, GrubCommands) {
  TempTree t;
  DebianGrub(t);
  const std::string r = t / "root";
  const BootTarget bios{true, false, "/dev/sda", ""};
  const BootTarget efi{false, true, "/dev/sda", "/boot/efi"};
  const BootTarget both{true, true, "/dev/nvme0n1", "/boot/efi"};
  const std::vector<std::string> mk{"/usr/sbin/chroot", r, "/usr/sbin/grub-mkconfig", "-o", "/boot/grub/grub.cfg"};
  EXPECT_EQ(Commands(BootloaderKind::kGrub, bios, r),
            (Argvs{{"/usr/sbin/chroot", r, "/usr/sbin/grub-install", "--target=i386-pc", "--recheck", "/dev/sda"}, mk}));
  const std::vector<std::string> efi_vendor{"/usr/sbin/chroot",          r,
                                            "/usr/sbin/grub-install",    "--target=x86_64-efi",
                                            "--efi-directory=/boot/efi", "--no-nvram"};
  std::vector<std::string> efi_removable = efi_vendor;
  efi_removable.push_back("--removable");
  EXPECT_EQ(Commands(BootloaderKind::kGrub, efi, r), (Argvs{efi_vendor, efi_removable, mk}));
  EXPECT_EQ(Commands(BootloaderKind::kAuto, both, r),
            (Argvs{{"/usr/sbin/chroot", r, "/usr/sbin/grub-install", "--target=i386-pc", "--recheck", "/dev/nvme0n1"},
                   efi_vendor,
                   efi_removable,
                   mk}));
  // Shim and the signed GRUB (Secure Boot): Debian's --uefi-secure-boot, in both places.
  BootTarget signed_efi = efi;
  signed_efi.efi_signed = true;
  std::vector<std::string> sv = efi_vendor, sr = efi_vendor;
  sv.push_back("--uefi-secure-boot");
  sr.push_back("--uefi-secure-boot");
  sr.push_back("--removable");
  EXPECT_EQ(Commands(BootloaderKind::kGrub, signed_efi, r), (Argvs{sv, sr, mk}));
  // Nothing to install (the ESP is used as the golden had it): grub.cfg is still made.
  EXPECT_EQ(Commands(BootloaderKind::kGrub, BootTarget{false, false, "/dev/sda", ""}, r), (Argvs{mk}));
  EXPECT_TRUE(Commands(BootloaderKind::kNone, both, r).empty());

  TempTree rhel;
  rhel.Write("root/usr/sbin/grub2-install", "", 0755);
  rhel.Write("root/usr/sbin/grub2-mkconfig", "", 0755);
  rhel.Mkdir("root/usr/lib/grub/i386-pc");
  const std::string rr = rhel / "root";
  EXPECT_EQ(Commands(BootloaderKind::kGrub, bios, rr),
            (Argvs{{"/usr/sbin/chroot", rr, "/usr/sbin/grub2-install", "--target=i386-pc", "--recheck", "/dev/sda"},
                   {"/usr/sbin/chroot", rr, "/usr/sbin/grub2-mkconfig", "-o", "/boot/grub2/grub.cfg"}}));
  EXPECT_EQ(testutil::ErrorOf(BootloaderCommands(BootloaderKind::kGrub, efi, rr, "/usr/sbin/chroot")),
            "the golden image has no GRUB EFI modules (/usr/lib/grub/x86_64-efi) to boot /dev/sda by EFI: install "
            "grub-efi-amd64-bin (Debian) or grub2-efi-x64-modules (RHEL) in it");
}

TEST(NodeBootloader, LiloLegacyGrubAndErrors) {
  TempTree lilo;
  lilo.Write("root/sbin/lilo", "", 0755);
  const std::string lr = lilo / "root";
  const BootTarget bios{true, false, "/dev/hda", ""};
  const BootTarget efi{false, true, "/dev/sda", "/boot/efi"};
  EXPECT_EQ(Commands(BootloaderKind::kLilo, bios, lr), (Argvs{{"/usr/sbin/chroot", lr, "/sbin/lilo"}}));
  EXPECT_EQ(Commands(BootloaderKind::kAuto, bios, lr), (Argvs{{"/usr/sbin/chroot", lr, "/sbin/lilo"}}));
  auto lilo_efi = BootloaderCommands(BootloaderKind::kLilo, efi, lr, "/usr/sbin/chroot");
  EXPECT_NE(lilo_efi.status().message().find("lilo cannot boot /dev/sda by EFI"), std::string::npos);
  auto grub_missing = BootloaderCommands(BootloaderKind::kGrub, bios, lr, "/usr/sbin/chroot");
  EXPECT_NE(grub_missing.status().message().find("--bootloader grub: the golden image has no grub-install"),
            std::string::npos);

  TempTree legacy;  // RHEL 5 / Mandriva: GRUB 0.97
  legacy.Write("root/sbin/grub-install", "", 0755);
  const std::string gr = legacy / "root";
  EXPECT_EQ(Commands(BootloaderKind::kGrub, bios, gr),
            (Argvs{{"/usr/sbin/chroot", gr, "/sbin/grub-install", "--recheck", "/dev/hda"}}));
  EXPECT_FALSE(BootloaderCommands(BootloaderKind::kGrub, efi, gr, "/usr/sbin/chroot").ok());

  TempTree nomods;
  nomods.Write("root/usr/sbin/grub-install", "", 0755);
  nomods.Write("root/usr/sbin/grub-mkconfig", "", 0755);
  auto bios_mods = BootloaderCommands(BootloaderKind::kGrub, bios, nomods / "root", "/usr/sbin/chroot");
  EXPECT_NE(bios_mods.status().message().find("no GRUB BIOS modules (/usr/lib/grub/i386-pc)"), std::string::npos);

  TempTree none;
  none.Mkdir("root/etc");
  EXPECT_TRUE(Commands(BootloaderKind::kAuto, bios, none / "root").empty());
}

TEST(NodeBootloader, InstallRunsTheCommandsAndStopsAtAFailure) {
  TempTree t;
  DebianGrub(t);
  const std::string r = t / "root";
  os::FakeEnv fr;
  fr.tool_paths["chroot"] = "/usr/sbin/chroot";
  ASSERT_TRUE(InstallBootloader(fr, BootloaderKind::kGrub, {true, true, "/dev/sda", "/boot/efi"}, r).ok());
  EXPECT_EQ(fr.runs.size(), 4u);
  EXPECT_EQ(fr.argvs()[3],
            (std::vector<std::string>{"/usr/sbin/chroot", r, "/usr/sbin/grub-mkconfig", "-o", "/boot/grub/grub.cfg"}));

  os::FakeEnv bad;
  bad.Script({"/usr/sbin/chroot", r, "/usr/sbin/grub-install", "--target=i386-pc"},
             {1, "", "grub-install: error: cannot find a GRUB drive for /dev/sda.\n"});
  Status s = InstallBootloader(bad, BootloaderKind::kGrub, {true, true, "/dev/sda", "/boot/efi"}, r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "installing the boot loader (grub) for /dev/sda: /usr/sbin/chroot " + r +
                             " /usr/sbin/grub-install --target=i386-pc --recheck /dev/sda exited with status 1: "
                             "grub-install: error: cannot find a GRUB drive for /dev/sda.");
  EXPECT_EQ(bad.runs.size(), 1u);

  os::FakeEnv nochroot;
  nochroot.missing_tools = {"chroot"};
  Status c = InstallBootloader(nochroot, BootloaderKind::kGrub, {true, false, "/dev/sda", ""}, r);
  EXPECT_NE(c.message().find("install the Debian package coreutils"), std::string::npos);
  EXPECT_TRUE(nochroot.runs.empty());
}

}  // namespace
}  // namespace ka::node

namespace ka::node {
namespace {

TEST(NodeBootloader, GrubFromTheNodeKeepsTheGoldensConfig) {
  TempTree t;
  t.Write("root/boot/grub/grub.cfg", "linux /vmlinuz root=UUID=x\n");
  auto c = NodeGrubCommands({true, true, "/dev/vda", "/boot/efi"}, t / "root", "/usr/sbin/grub-install");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string r = (t / "root");
  EXPECT_EQ(*c, (Argvs{{"/usr/sbin/grub-install", "--target=i386-pc", "--boot-directory=" + r + "/boot", "--recheck",
                        "/dev/vda"},
                       {"/usr/sbin/grub-install", "--target=x86_64-efi", "--efi-directory=" + r + "/boot/efi",
                        "--boot-directory=" + r + "/boot", "--removable", "--no-nvram"}}));
  EXPECT_EQ(ParseBootloader("grub-node").value_or(BootloaderKind::kAuto), BootloaderKind::kGrubNode);

  auto none = NodeGrubCommands({true, false, "/dev/vda", ""}, t / "root", "");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("ka netboot"), std::string::npos);
  TempTree bare;
  bare.Mkdir("root/boot");
  EXPECT_FALSE(NodeGrubCommands({true, false, "/dev/vda", ""}, bare / "root", "/usr/sbin/grub-install").ok());
}

TEST(NodeBootloader, NodeGrubIsCheckedBeforeAnyWrite) {
  TempTree lib;
  lib.Write("grub/i386-pc/modinfo.sh", "");
  os::FakeEnv fr;
  EXPECT_TRUE(CheckNodeBootloader(fr, BootloaderKind::kGrubNode, {true, false, "/dev/vda", ""}, lib / "grub").ok());
  Status efi = CheckNodeBootloader(fr, BootloaderKind::kGrubNode, {false, true, "/dev/vda", "/boot/efi"}, lib / "grub");
  ASSERT_FALSE(efi.ok());
  EXPECT_NE(efi.message().find("x86_64-efi"), std::string::npos);
  os::FakeEnv nogrub;
  nogrub.missing_tools.insert("grub-install");
  EXPECT_FALSE(CheckNodeBootloader(nogrub, BootloaderKind::kGrubNode, {true, false, "/dev/vda", ""}, lib / "grub").ok());
  EXPECT_TRUE(CheckNodeBootloader(nogrub, BootloaderKind::kGrub, {true, false, "/dev/vda", ""}, lib / "grub").ok());
  // The install runs the node's tool, no chroot.
  TempTree t;
  t.Write("root/boot/grub/grub.cfg", "");
  os::FakeEnv run;
  ASSERT_TRUE(InstallBootloader(run, BootloaderKind::kGrubNode, {true, false, "/dev/vda", ""}, (t / "root")).ok());
  ASSERT_EQ(run.argvs().size(), 1u);
  EXPECT_EQ(run.argvs()[0][0], "/usr/sbin/grub-install");
}

}  // namespace
}  // namespace ka::node
