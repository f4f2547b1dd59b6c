#include "layout/partitions.h"

#include "util/log.h"

namespace ka::layout {
namespace {

bool IsContainer(const Table& t, const TableEntry& e) {
  if (t.label != TableLabel::kMbr) return false;
  auto type = PartTypeFromSfdisk(e.type, t.label);
  return type.ok() && IsExtended(*type);
}

// Kernel devices for every data partition, when all of them are there with the
// table's geometry. Polls every 50 ms: up to 5 s while the kernel knows the
// partitions but their /dev nodes are not there yet (udev), 0.5 s otherwise.
std::optional<std::vector<PartitionDevice>> KernelDevices(os::Env& ops, const os::DiskInfo& disk, const Table& t,
                                                          std::string* missing) {
  const uint64_t ss = t.sector_size;
  for (int attempt = 0;; ++attempt) {
    std::vector<PartitionDevice> out;
    bool known = true, nodes = true;
    for (const TableEntry& e : t.entries) {
      if (IsContainer(t, e)) continue;
      auto kp = ops.KernelPartitionOf(disk.path, e.number);
      bool same = kp && kp->start512 * 512 == e.start * ss && kp->size512 * 512 == e.size * ss;
      if (!same) {
        known = false;
        *missing = kp ? kp->device + " has another geometry than the new table"
                      : "the kernel has no partition " + std::to_string(e.number) + " of " + disk.path;
        break;
      }
      if (!kp->node_ok) {
        nodes = false;
        *missing = kp->device + " did not appear";
        break;
      }
      out.push_back({e.number, kp->device, e.start * ss, e.size * ss, false});
    }
    if (known && nodes) return out;
    // Unknown to the kernel: a short grace. Known but no node yet: wait for udev.
    if (attempt >= (known ? 100 : 10)) return std::nullopt;
    ops.Pause(std::chrono::milliseconds(50));
  }
}

}  // namespace

Result<std::string> PartitionDevicePath(os::Env& ops, const os::DiskInfo& disk, const Table& table, int number) {
  const uint64_t ss = table.sector_size;
  for (const TableEntry& e : table.entries) {
    if (e.number != number) continue;
    if (IsContainer(table, e))
      return Status::Invalid("partition " + std::to_string(number) + " of " + disk.path +
                             " is the extended partition, a container without a device of its own");
    if (disk.block_device) {
      auto kp = ops.KernelPartitionOf(disk.path, number);
      if (kp && kp->node_ok && kp->start512 * 512 == e.start * ss && kp->size512 * 512 == e.size * ss)
        return kp->device;
    }
    for (const os::LoopDevice& l : ops.LoopsBackedBy(disk.path))
      if (l.offset == e.start * ss && l.size_limit == e.size * ss) return l.device;
    return Status::Io("partition " + std::to_string(number) + " of " + disk.path +
                      " has no device: run 'ka partition' (or 'partx --add') to expose it");
  }
  return Status::Invalid(disk.path + " has no partition " + std::to_string(number));
}

Result<std::vector<std::string>> ReleasePartitions(os::Env& ops, const os::DiskInfo& disk) {
  std::vector<std::string> detached;
  for (const os::LoopDevice& l : ops.LoopsBackedBy(disk.path)) {
    if (l.offset == 0) continue;  // not one of ours: ka's partition loops start past the table
    Status s = ops.DetachLoop(l.device);
    if (!s.ok()) return s.Wrap("detaching partition loop device " + l.device);
    detached.push_back(l.device);
  }
  if (disk.block_device) {
    Status s = ops.ForgetKernelPartitions(disk.path);
    if (!s.ok()) return s.Wrap("removing the kernel partitions of " + disk.path);
  }
  return detached;
}

Result<std::vector<PartitionDevice>> ExposePartitions(os::Env& ops, const os::DiskInfo& disk, const Table& table,
                                                      ExposeMode mode) {
  std::string why_not = "the disk is an image file";
  if (disk.block_device && mode != ExposeMode::kLoop) {
    Status s = ops.UpdateKernelPartitions(disk.path);
    if (!s.ok()) LogDebug("telling the kernel about the partitions of {}: {}", disk.path, s.message());
    auto kernel = KernelDevices(ops, disk, table, &why_not);
    if (kernel) return *kernel;
    if (!s.ok()) why_not += " (" + s.message() + ")";
  } else if (disk.block_device) {
    why_not = "offset loop devices were asked for";
  }
  if (mode == ExposeMode::kKernel) return Status::Io("no kernel partition devices for " + disk.path + ": " + why_not);
  if (mode == ExposeMode::kAuto) LogInfo("{}: {}; using offset loop devices", disk.path, why_not);

  std::vector<PartitionDevice> out;
  const uint64_t ss = table.sector_size;
  for (const TableEntry& e : table.entries) {
    if (IsContainer(table, e)) continue;
    auto dev = ops.AttachLoop(disk.path, e.start * ss, e.size * ss, /*read_only=*/false);
    if (!dev.ok()) {
      for (const auto& d : out) {
        Status s = ops.DetachLoop(d.path);
        if (!s.ok()) LogWarn("cleanup: {}", s.message());
      }
      return dev.status().Wrap("partition " + std::to_string(e.number) + " of " + disk.path);
    }
    out.push_back({e.number, *dev, e.start * ss, e.size * ss, true});
  }
  return out;
}

}  // namespace ka::layout
