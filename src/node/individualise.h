// Individualisation: what makes a freshly extracted copy of the golden system this
// node and not another clone. Edits files under ROOT only, resolved as a chroot
// would (node/root_fs.h): no symlink of the image leads outside ROOT.
//
// Rules (names usable in IndividualiseOptions::keep):
//   hostname       /etc/hostname; the 127.0.1.1 line of /etc/hosts; HOSTNAME= of
//                  /etc/sysconfig/network
//   machine-id     /etc/machine-id emptied (mode 0444; systemd makes a new id at
//                  boot); /var/lib/dbus/machine-id removed unless it is a symlink
//   ssh-host-keys  /etc/ssh/ssh_host_* removed; new keys made at first boot by a
//                  systemd unit or an /etc/rc.local block
//   net-rules      udev's persistent net rules (MAC -> interface name) removed
//   nm-mac         mac-address= and cloned-mac-address= lines of NetworkManager keyfiles
//   ifcfg-mac      HWADDR= and MACADDR= lines of ifcfg-* files
//   dhcp-leases    DHCP client leases and DUIDs (dhclient, NetworkManager, dhcpcd),
//                  systemd-networkd's persistent state
//   nm-secret-key  /var/lib/NetworkManager/secret_key (seeds stable IPv6 addresses)
//   random-seed    the saved random seeds of systemd, Debian and RHEL init scripts
// docs/node-steps.md says exactly what each does.
#pragma once

#include <string>
#include <vector>

#include "node/identity.h"
#include "util/status.h"

namespace ka::node {

struct IndividualiseOptions {
  std::string hostname_template;  // empty: "{name}"
  // Left untouched: rule names (above) or paths in the image, with fnmatch
  // patterns ("/etc/ssh/ssh_host_*", "/etc/NetworkManager/system-connections/mgmt*").
  std::vector<std::string> keep;
};

// How the node gets new SSH host keys.
enum class SshKeygenWay {
  kSystemdUnit,  // /etc/systemd/system/ka-ssh-keygen.service, enabled
  kRcLocal,      // a block in /etc/rc.local
  kNone,         // nothing to do or no way (see the report's notes)
  kKept,         // the golden's keys were kept (keep: ssh-host-keys)
};
const char* SshKeygenWayName(SshKeygenWay way);

struct IndividualiseReport {
  std::string hostname;         // the node's hostname, as written
  std::string golden_hostname;  // the golden's, from /etc/hostname ("" if none)
  bool systemd = false;         // the image boots with systemd
  SshKeygenWay ssh_keygen = SshKeygenWay::kNone;
  // Paths in the image ("/etc/hostname"), in the order of the work. A path reached
  // through a symlink is the file actually written; a note says so.
  std::vector<std::string> changed;  // written, created or mode changed
  std::vector<std::string> removed;
  std::vector<std::string> kept;   // would have changed, left alone by options.keep
  std::vector<std::string> notes;  // what an operator should know
};

// The rule names, in the order they run.
const std::vector<std::string>& IndividualiseRules();

// Applies every rule not kept. The hostname and the options are checked before
// anything changes. Running it again with the same identity changes nothing.
Result<IndividualiseReport> Individualise(const std::string& root, const Identity& id,
                                          const IndividualiseOptions& options);

}  // namespace ka::node
