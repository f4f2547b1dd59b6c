// The stage1 node agent (`ka netboot stage1`, run by the stage1 initramfs's
// /init): fetches stage2 (the node's tools) through the chain, then clones the
// node with `ka join`, trying ka.tries times with a visible countdown between
// tries, and after the last failure reboots, powers off or drops to a shell.
// ka.trust= and ka.operator= (public keys) reach both commands as `--trust KEY`
// and `--allow-remote-commands KEY`.
// Every effect goes through Stage1System so the logic is tested without a VM.
#pragma once

#include <string>
#include <vector>

#include "netboot/stage1_params.h"
#include "util/status.h"

namespace ka::netboot {

class Stage1System {
 public:
  virtual ~Stage1System() = default;
  // Runs argv (argv[0] absolute) with the console as stdin/stdout/stderr; its
  // exit status (128 + signal when killed), or -1 if it could not start.
  virtual int Run(const std::vector<std::string>& argv) = 0;
  virtual void Sleep(int seconds) = 0;
  // One line (or, with `same_line`, a line redrawn in place) on the console.
  virtual void Say(const std::string& text, bool same_line = false) = 0;
  virtual bool Exists(const std::string& path) = 0;
  virtual void Remove(const std::string& path) = 0;
  // reboot | poweroff: returns only if that failed.
  virtual Status Act(const std::string& action) = 0;
  // The disk for ka.disk=auto.
  virtual Result<std::string> PickDisk() = 0;
};

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
int RunStage1(const Stage1Config& config, Stage1System& sys);

// The session stage2 is broadcast on, for a clone session `session`.
std::string Stage2Session(const std::string& session);

// The node's name in the session: "pxe-" and the MAC's last three octets
// ("pxe-ab-cd-01"), or empty (ka's default, the hostname) without a MAC.
std::string NodeNameForMac(const std::string& mac);

}  // namespace ka::netboot
