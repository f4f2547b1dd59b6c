// Per-machine boot choice: pxelinux reads pxelinux.cfg/01-aa-bb-cc-dd-ee-ff before
// pxelinux.cfg/default, and ka/boot.ipxe chains ka/mac-aa-bb-cc-dd-ee-ff.ipxe
// first; a Secure Boot build's grub/grub.cfg sources grub/ka/mac-aa-bb-cc-dd-ee-ff.cfg.
// Writing these files (copies of the default menus with another default entry; for
// GRUB a `set default=` line) switches one machine, e.g. back to kamethod to clone it.
#pragma once

#include <optional>
#include <string>

#include "netboot/pxe_config.h"
#include "os/env.h"
#include "util/status.h"

namespace ka::netboot {

// Accepts "aa:bb:cc:dd:ee:ff", "AA-BB-CC-DD-EE-FF" and the BOOTIF form
// "01-aa-bb-cc-dd-ee-ff"; returns "aa:bb:cc:dd:ee:ff".
Result<std::string> ParseMac(const std::string& text);

// File names inside the TFTP root for a MAC in ParseMac's form.
std::string PxelinuxMacFile(const std::string& mac);  // "pxelinux.cfg/01-aa-bb-cc-dd-ee-ff"
std::string IpxeMacFile(const std::string& mac);      // "ka/mac-aa-bb-cc-dd-ee-ff.ipxe"

// Writes the per-MAC files atomically, derived from pxelinux.cfg/default and
// ka/boot.ipxe (which must exist: `ka netboot serve --no-run` writes them), and the
// GRUB one when grub/grub.cfg exists.
Status SetNodeBoot(os::Env& env, const std::string& tftp_root, const std::string& mac, BootChoice c);
// The machine's choice: its pxelinux per-MAC file, else its GRUB one, else the default menu's.
Result<BootChoice> GetNodeBoot(os::Env& env, const std::string& tftp_root, const std::string& mac);
// Removes the per-MAC files (the machine follows the default again).
Status ClearNodeBoot(os::Env& env, const std::string& tftp_root, const std::string& mac);

}  // namespace ka::netboot
