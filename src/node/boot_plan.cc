#include "node/boot_plan.h"

#include "layout/part_type.h"
#include "util/proc_filesystems.h"

namespace ka::node {
namespace {

constexpr const char* kFallbackLoader = "/EFI/BOOT/BOOTX64.EFI";

bool HasBiosPath(const layout::Layout& l) {
  if (l.label == layout::TableLabel::kMbr) return true;
  for (const auto& p : l.partitions)
    if (p.type.name == "bios") return true;
  return false;
}

const layout::Partition* EfiPartition(const layout::Layout& l) {
  for (const auto& p : l.partitions)
    if (layout::IsEfi(p.type)) return &p;
  return nullptr;
}

std::string OtherFirmwareAdvice(Firmware node) {
  return node == Firmware::kUefi
             ? "clone a golden that carries an EFI system partition (GPT: efi partition, vfat, mount=/boot/efi), "
               "switch the node's firmware to legacy BIOS (CSM), or pass --node-firmware any to clone anyway"
             : "clone a golden that carries a BIOS boot path (an MBR label, or a GPT bios_grub partition: type "
               "bios, 1 MiB), switch the node's firmware to UEFI, or pass --node-firmware any to clone anyway";
}

}  // namespace

const char* FirmwareName(Firmware f) { return f == Firmware::kUefi ? "UEFI" : "BIOS"; }

Firmware NodeFirmware(os::Env& env, const std::string& setting) {
  if (setting == "uefi") return Firmware::kUefi;
  if (setting == "bios") return Firmware::kBios;
  return env.IsDirectory("/sys/firmware/efi") ? Firmware::kUefi : Firmware::kBios;
}

std::string BootPlan::Summary() const {
  std::string s = std::string("node firmware ") + FirmwareName(firmware) + ", bootloader " + BootloaderName(kind);
  if (kind == BootloaderKind::kNone) return s;
  s += std::string(": ") + (target.bios ? "BIOS" : "") + (target.bios && (target.efi || esp_as_is) ? " + " : "");
  if (target.efi) s += "EFI into " + target.efi_dir + (esp_mount ? " (the block-copied ESP, mounted)" : "");
  if (esp_as_is) s += "EFI: the golden's ESP as it is";
  if (efi_entry) s += std::string(", UEFI boot entry ") + (efi_entry_last ? "last" : "first") + " in BootOrder";
  return s;
}

Result<BootPlan> PlanBoot(os::Env& env, const layout::Layout& layout, const format::Manifest& m,
                          const std::string& disk, const std::string& procfs) {
  BootPlan plan;
  auto kind = ParseBootloader(m.bootloader);
  if (!kind.ok()) return kind.status();
  plan.kind = *kind;
  plan.firmware = NodeFirmware(env, m.boot.firmware);
  plan.target.disk = disk;
  if (m.Root() == nullptr) return plan;  // a disk without a system: nothing boots from it

  const bool bios_path = HasBiosPath(layout);
  const layout::Partition* esp = EfiPartition(layout);
  if (m.boot.firmware != "any") {
    const bool fits = plan.firmware == Firmware::kUefi ? esp != nullptr : bios_path;
    if (!fits)
      return Status::Invalid(std::string("this node boots by ") + FirmwareName(plan.firmware) +
                             (m.boot.firmware == "auto" ? "" : " (--node-firmware " + m.boot.firmware + ")") +
                             " but the golden's layout boots by " +
                             (bios_path ? "BIOS"
                              : esp     ? "UEFI"
                                        : "neither") +
                             " only: " + OtherFirmwareAdvice(plan.firmware));
  }
  if (plan.kind == BootloaderKind::kNone) return plan;

  auto target = DecideBootTarget(layout, disk);
  if (!target.ok()) return target.status();
  plan.target = *target;
  if (plan.kind == BootloaderKind::kLilo && !plan.target.bios)
    return Status::Invalid("lilo cannot boot " + disk + " by EFI: use grub, or give the disk an MBR label");

  if (plan.target.efi) {
    const format::ManifestPartition* mp = nullptr;
    for (const auto& p : m.partitions)
      if (p.mount == plan.target.efi_dir) mp = &p;
    if (mp == nullptr || mp->method == format::Method::kNone || mp->method == format::Method::kSwap)
      return Status::Invalid("the EFI system partition (" + plan.target.efi_dir +
                             ") has no filesystem that travels: format it vfat on the golden");
    plan.esp_number = mp->number;
    if (mp->method == format::Method::kRaw) {
      if (KernelFilesystems(procfs).count("vfat") != 0) {
        plan.esp_mount = true;
      } else if (m.boot.EspHas(kFallbackLoader)) {
        plan.esp_as_is = true;
        plan.target.efi = false;
      } else {
        return Status::Invalid(
            "the EFI system partition (partition " + std::to_string(mp->number) +
            ") is copied block for block and this node's kernel cannot mount vfat to install GRUB into it, nor does "
            "the golden's ESP hold " +
            kFallbackLoader +
            " to boot as it is: load the vfat module on the node "
            "(ka netboot's stage1 does), or install the bootloader on the golden's ESP");
      }
    }
  }

  if (plan.kind == BootloaderKind::kGrub && m.boot.known) {
    if (plan.target.bios && !m.boot.HasGrubPlatform("i386-pc"))
      return Status::Invalid("the golden image has no GRUB BIOS modules (/usr/lib/grub/i386-pc) to boot " + disk +
                             " by BIOS: install grub-pc-bin (Debian) or grub2-pc-modules (RHEL) on the golden");
    if (plan.target.efi && !m.boot.HasGrubPlatform("x86_64-efi"))
      return Status::Invalid(
          "the golden image has no GRUB EFI modules (/usr/lib/grub/x86_64-efi) to boot " + disk +
          " by EFI: install grub-efi-amd64-bin (Debian) or grub2-efi-x64-modules (RHEL) on the golden");
    plan.target.efi_signed = plan.target.efi && m.boot.signed_efi;
  }
  if (plan.kind == BootloaderKind::kGrubNode) KA_RETURN_IF_ERROR(CheckNodeBootloader(env, plan.kind, plan.target));

  if (plan.firmware == Firmware::kUefi && m.boot.efi_entry != "none" && (plan.target.efi || plan.esp_as_is) &&
      env.IsDirectory("/sys/firmware/efi")) {
    auto tool = env.Find("efibootmgr", "efibootmgr");
    if (!tool.ok())
      return tool.status().Wrap("this node runs UEFI and gets a boot entry for its clone (--efi-entry " +
                                m.boot.efi_entry + "; ka netboot's stage2 carries efibootmgr; or --efi-entry none)");
    auto vars = env.ListDir("/sys/firmware/efi/efivars");
    if (!vars.ok() || vars->empty())
      return Status::Invalid(
          "this node runs UEFI but /sys/firmware/efi/efivars is not there (efivarfs not mounted): "
          "mount -t efivarfs efivarfs /sys/firmware/efi/efivars, or --efi-entry none");
    plan.efi_entry = true;
    plan.efi_entry_last = m.boot.efi_entry == "last";
    plan.efibootmgr = *tool;
  }
  return plan;
}

}  // namespace ka::node
