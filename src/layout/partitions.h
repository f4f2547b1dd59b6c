// Makes the partitions of a freshly written table usable as block devices: the
// kernel's /dev/sda1, /dev/nvme0n1p1, /dev/loop0p1 when they appear, otherwise (disk
// images, loop devices without partition nodes) one offset loop device per partition.
#pragma once

#include <string>
#include <vector>

#include "layout/table.h"
#include "os/env.h"
#include "util/status.h"

namespace ka::layout {

enum class ExposeMode {
  kAuto,    // kernel partition devices, else offset loop devices
  kKernel,  // kernel partition devices only (error if they do not appear)
  kLoop,    // offset loop devices only
};

struct PartitionDevice {
  int number = 0;
  std::string path;     // /dev/sda1 or /dev/loop7
  uint64_t offset = 0;  // bytes from the start of the disk
  uint64_t size = 0;    // bytes
  bool offset_loop = false;
};

// One device per partition of `table` (extended containers are skipped), in table
// order. Offset loop devices stay attached after return (they are the partitions);
// ReleasePartitions detaches them. On failure nothing new stays attached.
Result<std::vector<PartitionDevice>> ExposePartitions(os::Env& ops, const os::DiskInfo& disk, const Table& table,
                                                      ExposeMode mode);

// The device of partition `number` of `table` on `disk`, as exposed earlier (by this
// or another process): the kernel's partition device when it has the table's geometry,
// else an offset loop device over the disk at exactly that partition. Attaches nothing.
Result<std::string> PartitionDevicePath(os::Env& ops, const os::DiskInfo& disk, const Table& table, int number);

// Undoes ExposePartitions: detaches the offset loop devices of `disk` (loop devices
// whose backing file is the disk or image, at a non-zero offset) and, on a loop
// device without partition scanning, removes the kernel partitions partx added
// (they would outlive the loop device's detach). Returns the detached devices.
Result<std::vector<std::string>> ReleasePartitions(os::Env& ops, const os::DiskInfo& disk);

}  // namespace ka::layout
