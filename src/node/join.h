// `ka join`: a node of a clone session. Joins the chain, and in the PREPARE
// phase checks the golden's layout against its disk (refusing before any
// write if it does not fit), partitions and formats; then receives, relays and
// extracts the stream, finishes the clone (individualise, drivers, bootloader),
// reports, and exits, reboots or powers off.
#pragma once

#include <string>

#include "chain/receiver.h"

namespace ka::node {

struct JoinOptions {
  chain::ReceiveOptions receive;   // session/server, secret, ports, timeouts
  std::string disk;                // the disk to clone onto
  std::string hostname_template;   // overrides the server's ("" = the server's, else the golden's name)
  std::string then = "exit";       // exit | reboot | poweroff, after success
  // Make /dev/disk/by-* links of the disk and its new partitions in /dev (no udev here).
  bool dev_links = false;
};

// 0 cloned; 1 failed (disk marked not cloned if it was touched); 2 bad options.
int RunJoin(const JoinOptions& options);

}  // namespace ka::node
