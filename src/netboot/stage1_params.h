// The stage1 node agent's settings, read from the kernel command line that the
// pxelinux `kamethod` label (ka netboot serve) gives it:
//   ka.server=IP[:PORT]   the ka serve to join (absent: discovery by broadcast)
//   ka.session=NAME       session name (default ka; stage2 comes from NAME.stage2)
//   ka.tries=N            tries to reach the server and clone (default 5)
//   ka.delay=S            countdown between tries, seconds (default 10)
//   ka.fail=ACTION        after the last failed try: reboot | poweroff | shell (default reboot)
//   ka.then=ACTION        after a clone: reboot | poweroff | exit (default reboot)
//   ka.disk=DEV|auto      the disk to clone onto (default auto: the first fixed disk)
//   ka.rescue=1           no clone: straight to a shell (the `rescue` label)
//   ka.trust=KEY          the golden's public key (ka-ed25519:BASE64): accept only a stream signed by it
//   ka.operator=KEY       an operator's public key: remote commands only when signed by it
//   BOOTIF=01-aa-bb-..    the MAC pxelinux booted from (IPAPPEND 2)
#pragma once

#include <string>

#include "util/status.h"

namespace ka::netboot {

struct Stage1Params {
  std::string server;
  std::string session = "ka";
  int tries = 5;
  int delay = 10;
  std::string fail = "reboot";
  std::string then = "reboot";
  std::string disk = "auto";
  bool rescue = false;
  std::string boot_mac;  // aa:bb:cc:dd:ee:ff, or empty
  std::string trust;         // ka.trust: the public key line (canonical), or empty
  std::string operator_key;  // ka.operator: the public key line (canonical), or empty
};

// Parses /proc/cmdline's text. Unknown words are ignored (they belong to the
// kernel); a bad ka.* value is an error naming the parameter and what it accepts.
Result<Stage1Params> ParseStage1Params(const std::string& cmdline);

}  // namespace ka::netboot
