// The boot loader of the clone: which one the golden image has, where it must go
// on this node (BIOS boot code on the disk, EFI files on the ESP, or both), and the
// commands that install it, run inside the chroot (ChrootMounts must be active).
#pragma once

#include <string>
#include <vector>

#include "layout/layout.h"
#include "os/env.h"
#include "util/status.h"

namespace ka::node {

// kGrubNode: the golden has a GRUB configuration (/boot/grub/grub.cfg) but no
// grub-install (a small system, e.g. busybox-based): the node's own grub-install
// (stage2 of a netbooted node) installs GRUB for the image, whose grub.cfg is kept
// as it is (it names filesystems by UUID, which the clone keeps).
enum class BootloaderKind { kAuto, kGrub, kLilo, kNone, kGrubNode };
const char* BootloaderName(BootloaderKind kind);  // "auto", "grub", "lilo", "none", "grub-node"
// The --bootloader values above.
Result<BootloaderKind> ParseBootloader(const std::string& text);

// kGrub if ROOT has grub-install or grub2-install (/usr/sbin, /sbin), else kLilo if
// it has lilo (/sbin, /usr/sbin), else kNone.
Result<BootloaderKind> DetectBootloader(const std::string& root);
// The requested boot loader is in the image ("--bootloader lilo: the golden image
// has no /sbin/lilo; use grub or none"). kAuto and kNone always pass.
Status CheckBootloader(BootloaderKind requested, const std::string& root);

struct BootTarget {
  bool bios = false;    // boot code in the disk's MBR / GPT bios_grub partition
  bool efi = false;     // EFI files on the ESP
  std::string disk;     // /dev/sda
  std::string efi_dir;  // where the ESP is mounted in the image: /boot/efi
  bool efi_signed = false;  // shim + the distribution's signed GRUB (Debian: --uefi-secure-boot)
};

// From the disk's layout: an MBR label -> BIOS; GPT with a bios_grub partition
// (type bios) -> BIOS; an EFI system partition with a mount point -> EFI (at that
// mount point). Both may hold. Neither is an error that says what to add.
Result<BootTarget> DecideBootTarget(const layout::Layout& layout, const std::string& disk);

// The commands, in order, `chroot` being the host's chroot tool:
//   grub BIOS  chroot ROOT /usr/sbin/grub-install --target=i386-pc --recheck DISK
//   grub EFI   chroot ROOT /usr/sbin/grub-install --target=x86_64-efi --efi-directory=EFI_DIR --no-nvram
//   [--uefi-secure-boot]
//              (EFI/<distributor>/, the entry a UEFI node boots), then the same with --removable
//              (EFI/BOOT/BOOTX64.EFI, the path firmware tries without any entry);
//              --uefi-secure-boot when target.efi_signed: shim and the signed GRUB
//   then       chroot ROOT /usr/sbin/grub-mkconfig -o /boot/grub/grub.cfg
// With neither BIOS nor EFI to install (the ESP is used as the golden had it), only grub-mkconfig.
// (grub2-install and grub2-mkconfig -o /boot/grub2/grub.cfg on RHEL-style images;
// GRUB legacy, an image with grub-install but no grub-mkconfig: grub-install
// --recheck DISK alone, BIOS only)
//   lilo       chroot ROOT /sbin/lilo                                 (BIOS only)
//   none       nothing
// kAuto is DetectBootloader's answer. Errors: the boot loader is not in the image,
// its GRUB modules for the target (ROOT/usr/lib/grub/i386-pc, x86_64-efi) are
// missing, or it cannot boot that way (lilo or GRUB legacy on EFI).
Result<std::vector<std::vector<std::string>>> BootloaderCommands(BootloaderKind kind, const BootTarget& target,
                                                                 const std::string& root, const std::string& chroot);

// kGrubNode, with `grub_install` the node's tool (no chroot):
//   BIOS  GRUB_INSTALL --target=i386-pc --boot-directory=ROOT/boot --recheck DISK
//   EFI   GRUB_INSTALL --target=x86_64-efi --efi-directory=ROOT/EFI_DIR --boot-directory=ROOT/boot --removable
//         --no-nvram
// (an error if `grub_install` is empty, or ROOT has no /boot/grub/grub.cfg).
Result<std::vector<std::vector<std::string>>> NodeGrubCommands(const BootTarget& target, const std::string& root,
                                                               const std::string& grub_install);

// Before any write: the node can install `kind` (kGrubNode needs the node's
// grub-install and its GRUB modules for the target). Other kinds pass.
Status CheckNodeBootloader(os::Env& runner, BootloaderKind kind, const BootTarget& target,
                           const std::string& grub_lib = "/usr/lib/grub");

// The GRUB 2 configuration the boot loader step writes (grub) or keeps (grub-node)
// in the image, which the node then checks (boot_config_check.h):
// /boot/grub/grub.cfg, /boot/grub2/grub.cfg on RHEL-style images; "" for lilo,
// GRUB legacy (its menu.lst is used as is) and none.
std::string GrubConfigToCheck(BootloaderKind kind, const std::string& root);

// Runs BootloaderCommands (chroot found through `runner`); stops at the first failure.
Status InstallBootloader(os::Env& runner, BootloaderKind kind, const BootTarget& target, const std::string& root);

}  // namespace ka::node
