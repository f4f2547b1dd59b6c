// /proc/self/mountinfo: which filesystems are mounted where, by device number.
// Used to find the running system's disk (`ka serve --source /`) and to use an
// already mounted golden filesystem instead of mounting it a second time.
#pragma once

#include <string>
#include <vector>

#include "os/env.h"
#include "util/status.h"

namespace ka::golden {

struct MountEntry {
  unsigned major = 0, minor = 0;
  std::string root;         // path inside the filesystem ("/" unless a bind mount of a subdirectory)
  std::string mount_point;  // unescaped
  std::string options;      // per-mount options (ro, rw, ...)
  std::string type;         // ext4, xfs, tmpfs, ...
  std::string source;       // /dev/sda1, tmpfs, ...
  bool read_only() const;
};

Result<std::vector<MountEntry>> ParseMountInfo(const std::string& text);
Result<std::vector<MountEntry>> ReadMountInfo(os::Env& env);  // of this process

}  // namespace ka::golden
