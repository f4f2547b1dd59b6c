// The boot menu of UEFI nodes with Secure Boot: the firmware runs shim (shimx64.efi,
// signed by Microsoft's UEFI CA), shim runs Debian's signed network GRUB (grubx64.efi,
// from the same TFTP directory), whose built-in config sources `$prefix/grub.cfg`,
// i.e. `grub/grub.cfg` in the TFTP root. That menu offers the same three entries as
// pxelinux and iPXE (pxe_config.h) and first sources the machine's own choice,
// `grub/ka/mac-aa-bb-cc-dd-ee-ff.cfg`, if there is one (a single `set default=` line).
// Pure text generation and a bounded reader of the per-MAC file.
#pragma once

#include <string>

#include "netboot/pxe_config.h"
#include "util/status.h"

namespace ka::netboot {

// Paths inside the TFTP root.
inline constexpr const char* kGrubConfig = "grub/grub.cfg";
std::string GrubMacFile(const std::string& mac);  // "grub/ka/mac-aa-bb-cc-dd-ee-ff.cfg" (mac as ParseMac gives)

// grub/grub.cfg: default p.default_choice, the per-MAC file first, BOOTIF from
// GRUB's $net_default_mac, `local` = `exit` (the firmware tries its next boot
// option), and `local` (entry 0) as the fallback when stage1 cannot be loaded (a
// refused signature, a missing file).
std::string RenderGrubConfig(const BootParams& p);

// The per-MAC file: "set default=CHOICE".
std::string RenderGrubMacConfig(BootChoice c);
// Its choice; Invalid unless `text` (at most 4 KiB) is a per-MAC file ka wrote.
Result<BootChoice> GrubMacChoice(const std::string& text);

// One kernel argument as a GRUB script word: as it is when it holds only safe
// characters, else single-quoted.
std::string GrubWord(const std::string& word);

}  // namespace ka::netboot
