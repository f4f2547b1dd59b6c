// FakeEnv: an os::Env for unit tests (test-only: never linked into ka). It records
// every call and answers from a script:
//   processes: results scripted by argv prefix (the longest matching prefix wins;
//     unscripted commands succeed with empty output); "finds" every tool in /usr/sbin
//     unless told otherwise;
//   programs on the console: answered from the same script (its exit status), and
//     recorded in `runs` too; power actions recorded, and they fail (a test goes on);
//   mounts: recorded as text; targets in `busy` refuse a plain unmount, targets in
//     `stuck` refuse any unmount;
//   files: an in-memory tree (`files`, `dirs`, `symlinks`); "/", "/run", "/dev/pts"
//     and a /proc/filesystems (ext2/3/4, xfs, btrfs, squashfs) exist;
//   block devices: disks kept in memory with their table, sfdisk emulated on ka's own
//     scripts, loop devices attached and detached.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "layout/table.h"
#include "os/env.h"

namespace ka::os {

class FakeEnv : public Env {
 public:
  // Processes.
  struct Call {
    std::vector<std::string> argv;
    std::string input;
    bool attached = false;  // RunAttached
  };
  // Commands starting with `prefix` answer `output`: exit status 0 succeeds, any
  // other fails as a real tool would (ToolFailure with its stderr).
  void Script(std::vector<std::string> prefix, ToolOutput output);
  // Commands starting with `prefix` cannot be started at all.
  void ScriptStartFailure(std::vector<std::string> prefix, Status status);
  // Like Script, for the next matching command only; several answer in turn, before
  // any permanent answer.
  void ScriptOnce(std::vector<std::string> prefix, ToolOutput output);
  // Called with every command run (after recording it): a test's side effects, such
  // as a disk that appears once drivers are loaded. It may change the script (Run
  // answers from a copy of the answer it chose before).
  std::function<void(const std::vector<std::string>&)> on_run;
  std::vector<std::string> power_actions;  // every PowerAction, in order

  std::set<std::string> missing_tools;            // Find fails for these
  std::map<std::string, std::string> tool_paths;  // Find answers these (default /usr/sbin/NAME)
  std::vector<Call> runs;                         // every Run, in order
  // The recorded argvs alone.
  std::vector<std::vector<std::string>> argvs() const;

  // Mounts.
  std::string fail_mount;            // Mount on this target fails
  std::set<std::string> fail_fstypes;  // Mount of a filesystem of these types fails
  std::set<std::string> busy;        // plain Unmount fails with EBUSY
  std::set<std::string> stuck;       // every Unmount fails
  std::vector<std::string> mount_calls;  // "bind /dev /r/dev", "private /r/dev", "tmpfs /r/run nosuid,nodev mode=0755",
                                         // "ext4 /g/p1 ro,nosuid,nodev noload",
                                         // "umount /r/dev", "umount-lazy /r/dev",
                                         // "mknod /r/dev/sda b 8:0 660"

  // Block devices.
  struct Disk {
    DiskInfo info;
    bool has_table = false;
    layout::Table table;
    std::map<uint64_t, FsInfo> filesystems;  // byte offset -> what blkid finds there
  };
  // Adds a disk (block device unless `image`).
  Disk& AddDisk(const std::string& path, uint64_t size_bytes, bool image = false, uint64_t sector_size = 512);
  Disk& disk(const std::string& path) { return disks_.at(path); }

  bool kernel_knows_partitions = true;  // partx -u makes the kernel see the table
  bool partition_nodes_appear = true;   // ... and its /dev nodes appear
  std::vector<std::string> users;       // what Users() reports
  Status check_script_result;           // what sfdisk --no-act answers
  Status write_result;                  // what sfdisk answers when writing
  // Every block-device call, as "Inspect /dev/x", "WriteTable /dev/x", ...
  std::vector<std::string> disk_calls;
  // True if any call changed a disk (wipe, write, attach/detach).
  bool wrote_anything() const;
  std::vector<LoopDevice> loops() const;

  // Files: path -> content, and the directories (AddFile creates the parents).
  std::map<std::string, std::string> files{
      {"/proc/filesystems",
       "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\n\text3\n\text2\n\text4\n\tsquashfs\n\txfs\n\tbtrfs\n"}};
  std::set<std::string> dirs{"/", "/dev", "/dev/pts", "/proc", "/run"};
  std::map<std::string, unsigned> modes;  // the mode of each WriteFile
  std::set<std::string> unwritable;       // WriteFile and RemoveFile fail on these paths
  std::map<std::string, std::string> symlinks;  // ResolvePath follows these (path -> absolute target); ReadLink
  void AddFile(const std::string& path, const std::string& content);
  void AddDir(const std::string& path);

  int pauses = 0;
  std::chrono::milliseconds paused{0};  // the sum of every Pause

  Result<ToolOutput> Run(const std::vector<std::string>& argv, const std::string& input = {}) override;
  Result<std::string> Find(const std::string& tool, const std::string& debian_package) override;
  int RunAttached(const std::vector<std::string>& argv) override;
  Status PowerAction(const std::string& action) override;

  Status Mount(const std::string& source, const std::string& target, const std::string& fstype, unsigned long flags,
               const std::string& data) override;
  Status Unmount(const std::string& target, int flags) override;
  // Records "mknod PATH b|c MAJ:MIN MODE" and creates PATH as an empty file.
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
  struct Answer {
    std::vector<std::string> prefix;
    bool once = false;
    bool starts = true;
    ToolOutput output;
    Status start_failure;
  };
  std::vector<Answer> answers_;
  // The answer for argv (consuming a ScriptOnce one); nullptr: none scripted.
  const Answer* Match(const std::vector<std::string>& argv);
  Answer consumed_;

  Result<Disk*> FindDisk(const std::string& path);
  std::map<std::string, Disk> disks_;
  std::map<std::string, layout::Table> kernel_;                      // disk -> table the kernel knows
  std::map<std::string, std::pair<std::string, LoopDevice>> loops_;  // device -> (backing, loop)
  int next_loop_ = 100;
  int next_temp_ = 1;
};

}  // namespace ka::os
