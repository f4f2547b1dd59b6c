// What the bootloader step will do on this node, decided in PREPARE (before anything is
// written) from the golden's layout and manifest and from this node: which firmware the
// node boots with, whether the golden can boot that way at all (a BIOS-only golden onto a
// UEFI node, or the reverse, is refused), how the EFI system partition gets its files
// (installed by GRUB into the mounted ESP, or a block-for-block copy that already boots
// used as it is), and whether a UEFI boot entry is written. Every precondition of the
// step is checked here, so that it cannot fail for a reason known before the stream.
#pragma once

#include <string>

#include "format/manifest.h"
#include "layout/layout.h"
#include "node/bootloader.h"
#include "os/env.h"
#include "util/status.h"

namespace ka::node {

enum class Firmware { kBios, kUefi };
const char* FirmwareName(Firmware f);  // "BIOS", "UEFI"

// The node's firmware: `setting` "bios" or "uefi" as told, "auto" (and "any") from the
// node itself: UEFI when /sys/firmware/efi exists.
Firmware NodeFirmware(os::Env& env, const std::string& setting);

struct BootPlan {
  BootloaderKind kind = BootloaderKind::kNone;  // the golden's resolved bootloader
  Firmware firmware = Firmware::kBios;
  BootTarget target;            // what is installed (bios / efi) and where the ESP is mounted
  int esp_number = 0;           // the EFI system partition (0: none)
  bool esp_mount = false;       // ComposeRoot mounts the block-copied ESP at target.efi_dir
  bool esp_as_is = false;       // nothing installed on the ESP: the golden's copy boots as it is
  bool efi_entry = false;       // write a UEFI boot entry (efibootmgr)
  bool efi_entry_last = false;  // ... after the existing ones in BootOrder (else first)
  std::string efibootmgr;       // the node's tool, when efi_entry
  std::string Summary() const;  // one line for the log
};

// `procfs` is /proc/filesystems' text. Errors say what is missing and what to do.
Result<BootPlan> PlanBoot(os::Env& env, const layout::Layout& layout, const format::Manifest& m,
                          const std::string& disk, const std::string& procfs);

}  // namespace ka::node
