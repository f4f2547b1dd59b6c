// The boot menus nodes fetch by TFTP: pxelinux's `pxelinux.cfg/default` (BIOS)
// and the iPXE script `ka/boot.ipxe` (UEFI, through ipxe.efi). Both offer the
// same three entries: `local` (boot the disk), `kamethod` (stage1: join the
// chain and clone) and `rescue` (stage1 with a shell on failure). Pure text
// generation; writing files is netboot_serve's and boot_switch's job.
#pragma once

#include <string>

#include "util/status.h"

namespace ka::netboot {

enum class BootChoice { kLocal, kKamethod, kRescue };

// "local", "kamethod", "rescue".
const char* BootChoiceName(BootChoice c);
Result<BootChoice> ParseBootChoice(const std::string& s);

// What stage1 is told on its kernel command line.
struct BootParams {
  std::string server;             // "IP:PORT"; empty: the node finds the server by broadcast
  std::string session = "ka";     // ka.session
  int tries = 5;                  // ka.tries
  std::string fail = "reboot";    // ka.fail: reboot|poweroff|shell
  std::string then = "reboot";    // ka.then: reboot|poweroff|exit
  std::string disk;               // ka.disk (optional)
  std::string extra_args;         // appended verbatim
  bool secret = false;            // also load ka/secret.img
  std::string trust_key;          // ka.trust: the golden's public key line ("ka-ed25519:..."), optional
  std::string operator_key;       // ka.operator: the operator's public key line, optional
  BootChoice default_choice = BootChoice::kKamethod;
  int timeout_ds = 30;            // pxelinux TIMEOUT, tenths of a second
};

// Checks every field (session and disk without spaces, known fail/then words, the
// public key lines...).
Status ValidateBootParams(const BootParams& p);

// "HOST[:PORT]" -> "IP:PORT" (port 30765 when absent); the host must be an IPv4
// address (stage1 has no DNS).
Result<std::string> NormalizeServer(const std::string& spec);

// The kernel arguments after `initrd=` for an entry (kamethod or rescue), without
// BOOTIF (pxelinux adds it with IPAPPEND 2, the iPXE script adds it itself).
std::string KernelArgs(const BootParams& p, BootChoice c);

// pxelinux.cfg/default with DEFAULT set to p.default_choice.
std::string RenderPxelinuxConfig(const BootParams& p);
// Same labels, DEFAULT replaced: the per-MAC file boot_switch writes.
// Invalid if `config` has no DEFAULT line.
Result<std::string> WithPxelinuxDefault(const std::string& config, BootChoice c);
// The DEFAULT of a pxelinux config.
Result<BootChoice> PxelinuxDefault(const std::string& config);

// ka/boot.ipxe: tries the per-MAC override ka/mac-<aa-bb-..>.ipxe, else boots
// p.default_choice. File names inside are relative to the script (ka/).
std::string RenderIpxeScript(const BootParams& p);
// The per-MAC script: `script` (a RenderIpxeScript output) with the override
// lookup replaced by a jump to `c`.
Result<std::string> WithIpxeChoice(const std::string& script, BootChoice c);
// The choice a per-MAC or default script boots.
Result<BootChoice> IpxeChoice(const std::string& script);

}  // namespace ka::netboot
