// The contents of a chroot's private /dev (a fresh tmpfs that ChrootMounts puts on
// ROOT/dev): the usual character devices (null, zero, full, random, urandom, tty,
// console), the /dev/fd and std* links, pts/ and shm/ directories, the target
// disk and its partitions as block devices with the host's numbers and names, and
// the udev-style links of dev_links.h. Nothing of the host's /dev is visible: a
// tool in the chroot sees the disk it works on, named as it is named, and finds
// /dev/disk/by-uuid/... as on a system with udev.
#pragma once

#include <string>
#include <vector>

#include "node/chroot.h"
#include "node/dev_links.h"
#include "util/status.h"

namespace ka::node {

// The character devices, in creation order: name, major, minor.
struct CharDevice {
  const char* name;
  unsigned major, minor;
};
const std::vector<CharDevice>& StandardCharDevices();

// Fills DEV (an empty directory: the fresh tmpfs) as described above; device
// nodes through `mounter` (mknod), directories and links directly. Errors name
// the entry that could not be made.
Status PopulatePrivateDev(const std::string& dev, const std::vector<BlockNode>& nodes, os::Env& mounter);

}  // namespace ka::node
