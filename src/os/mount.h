// Mounting and unmounting through an os::Env, and private working directories.
// Mount stacks unmount in reverse order, and again on destruction, so a
// failure half-way leaves nothing mounted.
#pragma once

#include <string>
#include <vector>

#include "os/env.h"
#include "util/status.h"

namespace ka::os {

// Mounts DEVICE (type TYPE) on DIR, nodev and nosuid. `read_only` adds MS_RDONLY;
// `data` is the filesystem's option string. Errors name device, directory and type.
Status MountFs(Env& env, const std::string& device, const std::string& dir, const std::string& type, bool read_only,
               const std::string& data = {});
// A non-recursive read-only bind of SRC on DIR: SRC's filesystem only, no submounts.
Status BindReadOnly(Env& env, const std::string& src, const std::string& dir);
// Unmounts with a few retries on EBUSY; a lazy detach only as the last resort
// (the Status then says so). Not mounted (any more) is success.
Status Unmount(Env& env, const std::string& dir);

// True when / is an initramfs (rootfs: ramfs or tmpfs), where the stage1 agent runs.
bool RootIsInitramfs();

// A new directory /run/ka/PREFIX.XXXXXX (0700), /run/ka made if needed.
Result<std::string> MakeRunDir(Env& env, const std::string& prefix);

// Mounts made in order; UnmountAll (or the destructor) undoes them last first.
class MountStack {
 public:
  explicit MountStack(Env& env) : env_(env) {}
  MountStack(const MountStack&) = delete;
  MountStack& operator=(const MountStack&) = delete;
  ~MountStack() { (void)UnmountAll(); }
  void Push(const std::string& dir) { dirs_.push_back(dir); }
  const std::vector<std::string>& dirs() const { return dirs_; }
  Status UnmountAll();

 private:
  Env& env_;
  std::vector<std::string> dirs_;
};

}  // namespace ka::os
