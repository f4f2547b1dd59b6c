// FakeDiskOps: an in-memory DiskOps for unit tests. It keeps disks with their
// table, emulates sfdisk on ka's own scripts, and records every call so tests can
// check that nothing was written.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "layout/disk.h"

namespace ka::layout {

class FakeDiskOps : public DiskOps {
 public:
  struct Disk {
    DiskInfo info;
    bool has_table = false;
    Table table;
    std::map<uint64_t, FsInfo> filesystems;  // byte offset -> what blkid finds there
  };

  // Adds a disk (block device unless `image`).
  Disk& AddDisk(const std::string& path, uint64_t size_bytes, bool image = false, uint64_t sector_size = 512);
  Disk& disk(const std::string& path) { return disks_.at(path); }

  // Behaviour switches.
  bool kernel_knows_partitions = true;  // partx -u makes the kernel see the table
  bool partition_nodes_appear = true;   // ... and its /dev nodes appear
  std::vector<std::string> users;       // what Users() reports
  Status check_script_result;           // what sfdisk --no-act answers
  Status write_result;                  // what sfdisk answers when writing

  // Every call, as "Inspect /dev/x", "WriteTable /dev/x", ...
  std::vector<std::string> calls;
  // True if any call changed a disk (wipe, write, attach/detach).
  bool wrote_anything() const;
  std::vector<LoopDevice> loops() const;

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

  int pauses = 0;

 private:
  Result<Disk*> Find(const std::string& path);
  std::map<std::string, Disk> disks_;
  std::map<std::string, Table> kernel_;                              // disk -> table the kernel knows
  std::map<std::string, std::pair<std::string, LoopDevice>> loops_;  // device -> (backing, loop)
  int next_loop_ = 100;
};

// Parses the sfdisk scripts SfdiskScript writes (used by the fake's sfdisk).
Result<Table> ParseKaSfdiskScript(const std::string& script);

}  // namespace ka::layout
