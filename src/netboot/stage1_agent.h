// The stage1 node agent (`ka netboot stage1`, run by the stage1 initramfs's
// /init): fetches stage2 (the node's tools) through the chain, then clones the
// node with `ka join`, trying ka.tries times with a visible countdown between
// tries, and after the last failure reboots, powers off or drops to a shell.
// ka.trust= and ka.operator= (public keys) reach both commands as `--trust KEY`
// and `--allow-remote-commands KEY`.
// Every effect goes through an os::Env (programs on the console, files, power,
// /sys/block for ka.disk=auto) and what it says goes to `console`, so the logic
// is tested without a VM.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "netboot/stage1_params.h"
#include "os/env.h"
#include "util/status.h"

namespace ka::netboot {

struct Stage1Config {
  Stage1Params params;
  std::string ka = "/usr/bin/ka";
  std::string secret_file = "/etc/ka/secret";  // used when present (second initrd)
  std::string stage2_file = "/run/ka/stage2.ka";
  std::string stage2_root = "/";
  std::string stage2_marker = "/etc/ka/stage2.installed";  // present once stage2 is unpacked
};

// Exit status for /init: 0 cloned (ka.then=exit), 3 shell wanted (ka.fail=shell,
// ka.rescue), 1 the final action failed. Reboot/poweroff do not return.
// The countdown redraws its line in place ("\r").
int RunStage1(const Stage1Config& config, os::Env& env, std::ostream& console);

// The session stage2 is broadcast on, for a clone session `session`.
std::string Stage2Session(const std::string& session);

// The node's name in the session: "pxe-" and the MAC's last three octets
// ("pxe-ab-cd-01"), or empty (ka's default, the hostname) without a MAC.
std::string NodeNameForMac(const std::string& mac);

}  // namespace ka::netboot
