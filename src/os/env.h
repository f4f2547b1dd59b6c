// Env: every interaction of ka's logic with the operating system, behind one
// interface (LevelDB's Env): running system tools, the console and power, mounting,
// block devices and partition tables, and the host's files (/sys, /proc, the TFTP
// root, markers). RealEnv (os/real_env.h) is the real system; FakeEnv
// (src/testing/fake_env.h, unit tests only) records calls and answers from a script
// or an in-memory disk.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "os/run_tool.h"
#include "util/status.h"

namespace ka::os {

// Size of a disk and its logical sector size.
struct Geometry {
  uint64_t size_bytes = 0;
  uint64_t sector_size = 512;
  uint64_t sectors() const { return sector_size ? size_bytes / sector_size : 0; }
};

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
  unsigned major = 0;    // its device number (sysfs dev)
  unsigned minor = 0;
};

struct LoopDevice {
  std::string device;       // /dev/loop7
  uint64_t offset = 0;      // bytes into the backing file
  uint64_t size_limit = 0;  // bytes (0: up to the end)
};

class Env {
 public:
  virtual ~Env() = default;

  // Processes.
  // Runs argv (argv[0] an absolute path, no shell) with `input` on its stdin. The
  // output of a tool that exited 0; otherwise a Status naming the command, its exit
  // status and the end of its stderr (ToolFailure).
  virtual Result<ToolOutput> Run(const std::vector<std::string>& argv, const std::string& input = {}) = 0;
  // Absolute path of a tool of the running system; the error names the Debian
  // package that provides it.
  virtual Result<std::string> Find(const std::string& tool, const std::string& debian_package) = 0;
  bool Exists(const std::string& tool) { return Find(tool, "?").ok(); }
  // Runs argv (argv[0] absolute) on our console (stdin, stdout and stderr shared) and
  // waits: its exit status, 128 + the signal when killed, -1 if it could not start.
  virtual int RunAttached(const std::vector<std::string>& argv) = 0;
  // sync(2), then reboot(2): "reboot" or "poweroff". Returns only if that failed.
  virtual Status PowerAction(const std::string& action) = 0;

  // Mounts.
  // mount(2); empty strings are passed as NULL.
  virtual Status Mount(const std::string& source, const std::string& target, const std::string& fstype,
                       unsigned long flags, const std::string& data) = 0;
  // umount2(2). Busy: a Status whose message ends in "Device or resource busy".
  virtual Status Unmount(const std::string& target, int flags) = 0;
  // mknod(2) of a device node: `mode` holds S_IFCHR or S_IFBLK and the permissions.
  virtual Status MakeNode(const std::string& path, mode_t mode, unsigned major, unsigned minor) = 0;

  // Block devices and partition tables.
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
  // `losetup -o OFFSET --sizelimit SIZE -f --show BACKING` (with --read-only if asked): the new loop device.
  virtual Result<std::string> AttachLoop(const std::string& backing, uint64_t offset, uint64_t size,
                                         bool read_only) = 0;
  virtual Status DetachLoop(const std::string& device) = 0;
  // Loop devices whose backing file is `path` (a disk device or an image file).
  virtual std::vector<LoopDevice> LoopsBackedBy(const std::string& path) = 0;
  // `blkid -p` at a byte range of the disk: the filesystem found there, if any.
  virtual Result<FsInfo> ProbeFilesystem(const std::string& disk, uint64_t offset, uint64_t size) = 0;

  // Files of the host. (The trees a clone reads or writes are data, opened under their
  // root with O_NOFOLLOW by golden/tree_writer, node/tree_extract and node/root_fs.)
  // The whole file.
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  // Atomically: a temporary beside it, fsync(2), rename(2); `mode` is its permissions.
  virtual Status WriteFile(const std::string& path, const std::string& content, unsigned mode = 0644) = 0;
  // The path exists (any type; a dangling symlink does not).
  virtual bool FileExists(const std::string& path) = 0;
  // The path is a directory (/sys/firmware/efi/efivars on an EFI host).
  virtual bool IsDirectory(const std::string& path) = 0;
  // unlink(2); a path that does not exist is not an error.
  virtual Status RemoveFile(const std::string& path) = 0;
  // The names in a directory, sorted, without "." and "..".
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;
  // mkdir -p with `mode` for the directories it creates.
  virtual Status MakeDirs(const std::string& path, unsigned mode = 0755) = 0;
  // mkdtemp(3) of PREFIX.XXXXXX (mode 0700; the parent must exist): its path.
  virtual Result<std::string> MakeTempDir(const std::string& prefix) = 0;
  // rmdir(2) of an empty directory; a path that does not exist is not an error.
  virtual Status RemoveDir(const std::string& path) = 0;
  // realpath(3): absolute, every symlink followed; an error if it does not exist.
  virtual Result<std::string> ResolvePath(const std::string& path) = 0;
  // readlink(2): the target of a symlink as written (perhaps relative).
  virtual Result<std::string> ReadLink(const std::string& path) = 0;

  // Waiting (for device nodes, for a busy mount); the fake does not wait.
  virtual void Pause(std::chrono::milliseconds d) = 0;
};

// The process-wide real system (a RealEnv).
Env& DefaultEnv();

}  // namespace ka::os
