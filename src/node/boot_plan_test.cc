#include "node/boot_plan.h"

#include <gtest/gtest.h>

#include "layout/desc_parser.h"
#include "testing/error_of.h"
#include "testing/fake_env.h"

namespace ka::node {
namespace {

constexpr const char* kProcNoVfat = "nodev\tproc\n\text4\n";
constexpr const char* kProcVfat = "nodev\tproc\n\text4\n\tvfat\n";

// GPT golden: p1 bios_grub (when `bios`), p2 ESP (method `esp`), p3 / ext4.
format::Manifest Golden(bool bios, format::Method esp, const std::string& bootloader = "grub") {
  format::Manifest m;
  m.desc = std::string("label gpt\n") + (bios ? "bios 1MiB\n" : "") +
           "efi 100MiB fs=vfat mount=/boot/efi\n"
           "linux fill fs=ext4 mount=/\n";
  int n = 1;
  if (bios) m.partitions.push_back({.number = n++});
  m.partitions.push_back({.number = n++, .fs = "vfat", .mount = "/boot/efi", .method = esp, .size = 100ull << 20});
  m.partitions.push_back(
      {.number = n, .fs = "ext4", .mount = "/", .method = format::Method::kTree, .size = 1ull << 30});
  m.bootloader = bootloader;
  m.boot.known = true;
  m.boot.grub_platforms = {"i386-pc", "x86_64-efi"};
  m.boot.signed_efi = true;
  m.boot.esp_files = {"/EFI/BOOT/BOOTX64.EFI", "/EFI/BOOT/grubx64.efi", "/EFI/debian/shimx64.efi",
                      "/EFI/debian/grubx64.efi"};
  return m;
}

format::Manifest MbrGolden() {
  format::Manifest m;
  m.desc = "label mbr\nlinux fill boot fs=ext4 mount=/\n";
  m.partitions = {{.number = 1, .fs = "ext4", .mount = "/", .method = format::Method::kTree, .size = 1ull << 30}};
  m.bootloader = "grub";
  return m;
}

Result<BootPlan> Plan(os::FakeEnv& env, const format::Manifest& m, const char* procfs = kProcVfat) {
  auto l = layout::ParseDesc(m.desc);
  EXPECT_TRUE(l.ok()) << l.status().ToString();
  return PlanBoot(env, l.value(), m, "/dev/vda", procfs);
}

void UefiNode(os::FakeEnv& env) {
  env.AddDir("/sys/firmware/efi");
  env.AddFile("/sys/firmware/efi/efivars/BootOrder-8be4df61-93ca-11d2-aa0d-00e098032b8c", "");
}

TEST(NodeBootPlan, FirmwareFromTheNodeOrTheOperator) {
  os::FakeEnv env;
  EXPECT_EQ(NodeFirmware(env, "auto"), Firmware::kBios);
  EXPECT_EQ(NodeFirmware(env, "uefi"), Firmware::kUefi);
  UefiNode(env);
  EXPECT_EQ(NodeFirmware(env, "auto"), Firmware::kUefi);
  EXPECT_EQ(NodeFirmware(env, "bios"), Firmware::kBios);
}

TEST(NodeBootPlan, ABiosGoldenOntoAUefiNodeIsRefusedAndTheReverse) {
  os::FakeEnv uefi;
  UefiNode(uefi);
  EXPECT_EQ(testutil::ErrorOf(Plan(uefi, MbrGolden())),
            "this node boots by UEFI but the golden's layout boots by BIOS only: clone a golden that carries an EFI "
            "system partition (GPT: efi partition, vfat, mount=/boot/efi), switch the node's firmware to legacy BIOS "
            "(CSM), or pass --node-firmware any to clone anyway");
  os::FakeEnv bios;
  auto efi_only = Golden(false, format::Method::kTree);
  EXPECT_NE(testutil::ErrorOf(Plan(bios, efi_only))
                .find("this node boots by BIOS but the golden's layout boots by UEFI "
                      "only: clone a golden that carries a BIOS boot path"),
            std::string::npos);
  efi_only.boot.firmware = "any";
  EXPECT_TRUE(Plan(bios, efi_only).ok());
  efi_only.boot.firmware = "uefi";  // told: a BIOS test host cloning for UEFI machines
  auto told = Plan(bios, efi_only);
  ASSERT_TRUE(told.ok()) << told.status().ToString();
  EXPECT_EQ(told->firmware, Firmware::kUefi);
  EXPECT_FALSE(told->efi_entry);  // no firmware variables to write on this host
  // A golden that carries both boots either way, with none too.
  auto both = Golden(true, format::Method::kTree, "none");
  EXPECT_TRUE(Plan(uefi, both).ok());
  EXPECT_TRUE(Plan(bios, both).ok());
}

TEST(NodeBootPlan, ABlockCopiedEspIsMountedOrUsedAsItIsOrRefused) {
  os::FakeEnv env;
  auto m = Golden(true, format::Method::kRaw);
  auto mounted = Plan(env, m, kProcVfat);
  ASSERT_TRUE(mounted.ok()) << mounted.status().ToString();
  EXPECT_TRUE(mounted->esp_mount);
  EXPECT_TRUE(mounted->target.efi);
  EXPECT_TRUE(mounted->target.efi_signed);
  EXPECT_EQ(mounted->esp_number, 2);
  EXPECT_EQ(mounted->target.efi_dir, "/boot/efi");

  auto as_is = Plan(env, m, kProcNoVfat);
  ASSERT_TRUE(as_is.ok()) << as_is.status().ToString();
  EXPECT_TRUE(as_is->esp_as_is);
  EXPECT_FALSE(as_is->target.efi);
  EXPECT_TRUE(as_is->target.bios);

  m.boot.esp_files = {"/EFI/debian/grubx64.efi"};  // no removable-media path: it may not boot on its own
  EXPECT_NE(testutil::ErrorOf(Plan(env, m, kProcNoVfat))
                .find("is copied block for block and this node's kernel cannot mount vfat to install GRUB into it, "
                      "nor does the golden's ESP hold /EFI/BOOT/BOOTX64.EFI"),
            std::string::npos);
}

TEST(NodeBootPlan, MissingGrubModulesAndToolsAreFoundBeforeWriting) {
  os::FakeEnv env;
  auto m = Golden(true, format::Method::kTree);
  m.boot.grub_platforms = {"i386-pc"};
  EXPECT_NE(testutil::ErrorOf(Plan(env, m)).find("no GRUB EFI modules (/usr/lib/grub/x86_64-efi)"), std::string::npos);
  m.boot.grub_platforms = {"x86_64-efi"};
  EXPECT_NE(testutil::ErrorOf(Plan(env, m)).find("no GRUB BIOS modules (/usr/lib/grub/i386-pc)"), std::string::npos);
  m.boot.known = false;  // an older golden said nothing: checked when the step runs
  EXPECT_TRUE(Plan(env, m).ok());

  os::FakeEnv uefi;
  UefiNode(uefi);
  uefi.missing_tools.insert("efibootmgr");
  EXPECT_NE(testutil::ErrorOf(Plan(uefi, Golden(true, format::Method::kTree))).find("--efi-entry none"),
            std::string::npos);
  auto none = Golden(true, format::Method::kTree);
  none.boot.efi_entry = "none";
  auto p = Plan(uefi, none);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->efi_entry);
}

TEST(NodeBootPlan, AUefiNodeGetsABootEntry) {
  os::FakeEnv env;
  UefiNode(env);
  env.tool_paths["efibootmgr"] = "/usr/bin/efibootmgr";
  auto m = Golden(false, format::Method::kRaw);
  m.boot.efi_entry = "last";
  auto p = Plan(env, m);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->efi_entry);
  EXPECT_TRUE(p->efi_entry_last);
  EXPECT_EQ(p->efibootmgr, "/usr/bin/efibootmgr");
  EXPECT_EQ(p->Summary(),
            "node firmware UEFI, bootloader grub: EFI into /boot/efi (the block-copied ESP, mounted), UEFI boot entry "
            "last in BootOrder");
}

}  // namespace
}  // namespace ka::node
