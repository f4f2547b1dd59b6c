// FakeMounter: a Mounter for unit tests. Records every call as text; targets in
// `busy` refuse a plain unmount, targets in `stuck` refuse any unmount.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "node/chroot.h"

namespace ka::node {

class FakeMounter : public Mounter {
 public:
  bool efi = false;                 // the host has /sys/firmware/efi/efivars
  std::string fail_mount;           // Mount on this target fails
  std::set<std::string> busy;       // plain Unmount fails with EBUSY
  std::set<std::string> stuck;      // every Unmount fails
  std::vector<std::string> calls;   // "bind /dev /r/dev", "private /r/dev", "tmpfs /r/run nosuid,nodev mode=0755",
                                    // "umount /r/dev", "umount-lazy /r/dev",
                                    // "mknod /r/dev/sda b 8:0 660"
  int pauses = 0;

  Status Mount(const std::string& source, const std::string& target, const std::string& fstype, unsigned long flags,
               const std::string& data) override;
  Status Unmount(const std::string& target, int flags) override;
  bool HostDirExists(const std::string& path) override;
  // Records "mknod PATH b|c MAJ:MIN MODE" and creates PATH as an empty file.
  Status MakeNode(const std::string& path, mode_t mode, unsigned major, unsigned minor) override;
  void Pause(std::chrono::milliseconds) override { ++pauses; }
};

}  // namespace ka::node
