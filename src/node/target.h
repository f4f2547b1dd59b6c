// The node's disk as a clone target: checks that the golden's layout and
// filesystems fit it (nothing is written before every check passed), then
// partitions it, clears old boot code, makes every filesystem with the
// golden's type, UUID and label, and mounts the ones that receive files under
// a private directory. On failure after the first write, MarkNotCloned()
// leaves a disk without partition table and boot code: it cannot boot a
// half-written system.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "format/manifest.h"
#include "layout/apply.h"
#include "node/boot_plan.h"
#include "node/dev_links.h"
#include "os/env.h"
#include "os/mount.h"
#include "util/status.h"

namespace ka::node {

struct TargetPartition {
  format::ManifestPartition info;
  std::string device;  // the node's partition device
  uint64_t size = 0;   // bytes on this node
  std::string dir;     // tree: where it is mounted (alone, for extraction)
};

class Target {
 public:
  // Every disk, mount and tool goes through `env`.
  explicit Target(os::Env& env) : env_(env) {}
  ~Target();
  Target(const Target&) = delete;
  Target& operator=(const Target&) = delete;

  // Every check, nothing written: layout fits and the disk is free (sfdisk
  // --no-act), filesystems supported by tools and kernel, each partition big
  // enough for the golden's used bytes or raw image. Invalid/Refused errors.
  Status Check(const format::Manifest& m, const std::string& disk);
  // Writes: table, boot code cleared, filesystems made, tree filesystems
  // mounted. Returns a one-line description.
  Result<std::string> Apply();

  // Told each step ("partitioning", "formatting") with a detail.
  std::function<void(const std::string& state, const std::string& detail)> on_state;
  // Told how long each step took: "partition", "format" (seconds).
  std::function<void(const std::string& phase, double seconds)> on_phase;

  const std::vector<TargetPartition>& partitions() const { return parts_; }
  TargetPartition* Find(int number);
  const std::string& disk() const { return disk_; }
  const layout::Layout& layout() const { return layout_; }
  const layout::ApplyResult& applied() const { return applied_; }
  // What the bootloader step does on this node (decided and checked by Check).
  const BootPlan& boot_plan() const { return boot_plan_; }
  bool touched() const { return touched_; }
  const std::string& run_dir() const { return run_dir_; }

  // Mounts every tree filesystem composed under run_dir/root ("/" first, then
  // by depth of mount point) for the finishing steps, and the block-copied EFI
  // system partition when the boot plan says so; returns that root, or "" when
  // the golden had no root filesystem.
  Result<std::string> ComposeRoot();
  // The disk and its partition devices as block nodes with their udev-style ids
  // (dev_links.h), for a chroot's private /dev or the node's own /dev.
  Result<std::vector<BlockNode>> DiskNodes(const std::string& sysfs = "/sys");
  // The names under /dev of the disk and its partition devices ("loop5", "loop5p6").
  std::vector<std::string> DeviceNames() const;

  // Unmounts everything (composed or not).
  Status UnmountAll();
  // After a failure: unmount, release, then remove the table and boot code.
  Status MarkNotCloned();
  // Detaches offset loop devices made for the partitions (disk images, loop disks).
  Status Release();

 private:
  Status ClearBootCode();
  void RemoveRunDir();  // the (unmounted) mount point directories under /run/ka

  os::Env& env_;
  format::Manifest manifest_;
  std::string disk_;
  layout::Layout layout_;
  layout::ApplyResult applied_;
  std::vector<TargetPartition> parts_;
  BootPlan boot_plan_;
  bool checked_ = false, touched_ = false, released_ = false;
  std::string run_dir_;
  os::MountStack mounts_{env_};
};

}  // namespace ka::node
