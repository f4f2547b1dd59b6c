// RealEnv: the Env of the running system. Tools are found by absolute path and run
// with RunTool (every command logged before it runs, failures with their stderr, and
// again every `progress_every` while it runs: "still running after 30 s: CMD", so a
// node is never silent for long); mount(2), umount2(2), mknod(2); sfdisk, wipefs,
// partx, losetup and blkid (packages fdisk and util-linux) for disks, /sys and /proc
// for the rest. Files, the console and power: os/real_env_files.cc.
#pragma once

#include <chrono>

#include "os/env.h"

namespace ka::os {

class RealEnv final : public Env {
 public:
  explicit RealEnv(std::chrono::milliseconds progress_every = std::chrono::seconds(10))
      : progress_every_(progress_every) {}

  Result<ToolOutput> Run(const std::vector<std::string>& argv, const std::string& input = {}) override;
  Result<std::string> Find(const std::string& tool, const std::string& debian_package) override;
  int RunAttached(const std::vector<std::string>& argv) override;
  Status PowerAction(const std::string& action) override;

  Status Mount(const std::string& source, const std::string& target, const std::string& fstype, unsigned long flags,
               const std::string& data) override;
  Status Unmount(const std::string& target, int flags) override;
  Status MakeNode(const std::string& path, mode_t mode, unsigned major, unsigned minor) override;

  Result<DiskInfo> Inspect(const std::string& disk) override;
  Result<std::string> ReadTableJson(const std::string& disk) override;
  Status CheckScript(const std::string& disk, const std::string& script) override;
  Status WriteTable(const std::string& disk, const std::string& script) override;
  Status WipeSignatures(const std::string& disk) override;
  std::vector<std::string> Users(const DiskInfo& disk) override;
  Status UpdateKernelPartitions(const std::string& disk) override;
  Status ForgetKernelPartitions(const std::string& disk) override;
  std::optional<KernelPartition> KernelPartitionOf(const std::string& disk, int number) override;
  Result<std::string> AttachLoop(const std::string& backing, uint64_t offset, uint64_t size,
                                 bool read_only) override;
  Status DetachLoop(const std::string& device) override;
  std::vector<LoopDevice> LoopsBackedBy(const std::string& path) override;
  Result<FsInfo> ProbeFilesystem(const std::string& disk, uint64_t offset, uint64_t size) override;

  Result<std::string> ReadFile(const std::string& path) override;
  Status WriteFile(const std::string& path, const std::string& content, unsigned mode = 0644) override;
  bool FileExists(const std::string& path) override;
  bool IsDirectory(const std::string& path) override;
  Status RemoveFile(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  Status MakeDirs(const std::string& path, unsigned mode = 0755) override;
  Result<std::string> MakeTempDir(const std::string& prefix) override;
  Status RemoveDir(const std::string& path) override;
  Result<std::string> ResolvePath(const std::string& path) override;
  Result<std::string> ReadLink(const std::string& path) override;

  void Pause(std::chrono::milliseconds d) override;

 private:
  // The names in a directory (ListDir), none if it cannot be read (a sysfs entry gone).
  std::vector<std::string> Names(const std::string& dir) { return ListDir(dir).value_or(std::vector<std::string>{}); }

  std::chrono::milliseconds progress_every_;
};

}  // namespace ka::os
