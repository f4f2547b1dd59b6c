// ka.disk=auto: which disk a netbooted node clones onto. Reads /sys/block through
// an os::Env: skips loop, ram, zram, CD/DVD (sr), floppies,
// device-mapper/md and removable or empty devices, then takes the first of the
// rest in name order (vda before sda before nvme0n1 would be surprising, so the
// order is: virtio vd*, sd*, nvme*, xvd*, mmcblk*, others; within a kind by name).
#pragma once

#include <string>
#include <vector>

#include "os/env.h"
#include "util/status.h"

namespace ka::netboot {

struct DiskCandidate {
  std::string name;   // vda
  uint64_t bytes = 0;
};

// The fixed disks under `sys_block`, in preference order.
std::vector<DiskCandidate> ListFixedDisks(os::Env& env, const std::string& sys_block = "/sys/block");

// "/dev/NAME" of the first fixed disk; an error listing what was seen when none fits.
Result<std::string> PickDisk(os::Env& env, const std::string& sys_block = "/sys/block");

}  // namespace ka::netboot
