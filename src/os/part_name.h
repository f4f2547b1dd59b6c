// Kernel names of partition devices: sda -> sda1, vda -> vda1, but nvme0n1 ->
// nvme0n1p1, mmcblk0 -> mmcblk0p1 and loop0 -> loop0p1 (names ending in a digit).
#pragma once

#include <string>

namespace ka::os {

// The device path of partition `number` of `disk` ("/dev/sda", 1 -> "/dev/sda1").
std::string PartitionNodeName(const std::string& disk, int number);

}  // namespace ka::os
