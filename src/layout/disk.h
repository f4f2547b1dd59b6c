// DiskOps: every interaction of the layout code with disks and the system tools
// that change them, behind one narrow interface. RealDiskOps calls the Debian tools
// by absolute path; FakeDiskOps (fake_disk.h) keeps a disk in memory for tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "layout/table.h"
#include "util/status.h"

namespace ka::layout {

struct DiskInfo {
  std::string path;           // resolved (symlinks followed): /dev/sda, /dev/loop0, /srv/disk.img
  bool block_device = false;  // false: a regular file (a disk image)
  Geometry geometry;
};

struct FsInfo {
  std::string type;  // blkid TYPE: ext4, vfat, swap, xfs, ...; empty: nothing found
  std::string uuid;
  std::string label;
};

// A partition as the kernel knows it (/sys/class/block/NAME).
struct KernelPartition {
  std::string device;     // /dev/sda1
  uint64_t start512 = 0;  // start and size in 512-byte units, as sysfs reports them
  uint64_t size512 = 0;
  bool node_ok = false;  // /dev/NAME exists and is that block device
};

struct LoopDevice {
  std::string device;       // /dev/loop7
  uint64_t offset = 0;      // bytes into the backing file
  uint64_t size_limit = 0;  // bytes (0: up to the end)
};

class DiskOps {
 public:
  virtual ~DiskOps() = default;

  // Resolves and stats the disk: size, logical sector size, block device or file.
  virtual Result<DiskInfo> Inspect(const std::string& disk) = 0;
  // `sfdisk --json DISK`; an empty string when the disk has no partition table.
  virtual Result<std::string> ReadTableJson(const std::string& disk) = 0;
  // `sfdisk --no-act`: sfdisk checks the script without writing anything.
  virtual Status CheckScript(const std::string& disk, const std::string& script) = 0;
  // `sfdisk` with the script: writes the table (and wipes old signatures in the new partitions).
  virtual Status WriteTable(const std::string& disk, const std::string& script) = 0;
  // `wipefs -a DISK`: removes partition-table and filesystem signatures of the whole disk.
  virtual Status WipeSignatures(const std::string& disk) = 0;
  // Why the disk must not be written now: its partitions (kernel ones or offset loop
  // devices on it) mounted, used as swap or held by device-mapper/md. Empty: free.
  virtual std::vector<std::string> Users(const DiskInfo& disk) = 0;
  // Tells the kernel the partitions of the new table: `partx --delete` then `partx
  // --add` (BLKPG), which works where the kernel itself cannot read the table
  // (loop devices without partition scanning, kernels without partition parsers).
  virtual Status UpdateKernelPartitions(const std::string& disk) = 0;
  // `partx --delete` on a loop device without partition scanning, whose kernel
  // partitions (added by UpdateKernelPartitions) would outlive its detach. No-op
  // for other devices.
  virtual Status ForgetKernelPartitions(const std::string& disk) = 0;
  // Partition `number` of a block device as the kernel knows it; nullopt if it does not.
  virtual std::optional<KernelPartition> KernelPartitionOf(const std::string& disk, int number) = 0;
  // `losetup -o OFFSET --sizelimit SIZE -f --show BACKING`: the new loop device.
  virtual Result<std::string> AttachLoop(const std::string& backing, uint64_t offset, uint64_t size) = 0;
  virtual Status DetachLoop(const std::string& device) = 0;
  // Loop devices whose backing file is `path` (a disk device or an image file).
  virtual std::vector<LoopDevice> LoopsBackedBy(const std::string& path) = 0;
  // `blkid -p` at a byte range of the disk: the filesystem found there, if any.
  virtual Result<FsInfo> ProbeFilesystem(const std::string& disk, uint64_t offset, uint64_t size) = 0;
  // Waiting for device nodes (the fake does not wait).
  virtual void Pause(std::chrono::milliseconds d) = 0;
};

// The real system: sfdisk, wipefs, partx, losetup, blkid (packages fdisk and
// util-linux), found by absolute path; /sys and /proc for the rest.
class RealDiskOps : public DiskOps {
 public:
  Result<DiskInfo> Inspect(const std::string& disk) override;
  Result<std::string> ReadTableJson(const std::string& disk) override;
  Status CheckScript(const std::string& disk, const std::string& script) override;
  Status WriteTable(const std::string& disk, const std::string& script) override;
  Status WipeSignatures(const std::string& disk) override;
  std::vector<std::string> Users(const DiskInfo& disk) override;
  Status UpdateKernelPartitions(const std::string& disk) override;
  Status ForgetKernelPartitions(const std::string& disk) override;
  std::optional<KernelPartition> KernelPartitionOf(const std::string& disk, int number) override;
  Result<std::string> AttachLoop(const std::string& backing, uint64_t offset, uint64_t size) override;
  Status DetachLoop(const std::string& device) override;
  std::vector<LoopDevice> LoopsBackedBy(const std::string& path) override;
  Result<FsInfo> ProbeFilesystem(const std::string& disk, uint64_t offset, uint64_t size) override;
  void Pause(std::chrono::milliseconds d) override;
};

}  // namespace ka::layout
