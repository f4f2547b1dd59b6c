#include "os/mount.h"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <chrono>

#include "util/log.h"

namespace ka::os {
namespace {

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

Status MountFs(Env& env, const std::string& device, const std::string& dir, const std::string& type, bool read_only,
               const std::string& data) {
  unsigned long flags = MS_NODEV | MS_NOSUID;
  if (read_only) flags |= MS_RDONLY;
  Status s = env.Mount(device, dir, type, flags, data);
  if (s.ok()) return s;
  std::string hint = EndsWith(s.message(), "No such device") ? " (the kernel does not support " + type + ")" : "";
  return Status::Io("mount " + device + " on " + dir + " (" + type + (read_only ? ", read-only" : "") +
                    (data.empty() ? "" : ", " + data) + "): " + s.message() + hint);
}

Status BindReadOnly(Env& env, const std::string& src, const std::string& dir) {
  KA_RETURN_IF_ERROR(env.Mount(src, dir, "", MS_BIND, ""));
  if (Status s = env.Mount("", dir, "", MS_BIND | MS_REMOUNT | MS_RDONLY, ""); !s.ok()) {
    (void)env.Unmount(dir, 0);
    return Status::Io("making the bind mount of " + src + " read-only: " + s.message());
  }
  return Status::Ok();
}

Status Unmount(Env& env, const std::string& dir) {
  // os::Env reports errno as the message's end (ErrnoMessage): "... Device or resource busy".
  Status s;
  for (int i = 0; i < 20; ++i) {
    s = env.Unmount(dir, 0);
    if (s.ok()) return s;
    if (EndsWith(s.message(), "Invalid argument") || EndsWith(s.message(), "No such file or directory"))
      return Status::Ok();  // not mounted (any more)
    if (!EndsWith(s.message(), "Device or resource busy")) return s;
    env.Pause(std::chrono::milliseconds(100));
  }
  if (env.Unmount(dir, MNT_DETACH).ok())
    return Status::Io("unmount " + dir + ": still busy after 2 s; detached lazily (a process still uses it)");
  return s;
}

bool RootIsInitramfs() {
  struct statfs s {};
  if (::statfs("/", &s) != 0) return false;
  return s.f_type == RAMFS_MAGIC || s.f_type == TMPFS_MAGIC;
}

Result<std::string> MakeRunDir(Env& env, const std::string& prefix) {
  KA_RETURN_IF_ERROR(env.MakeDirs("/run/ka", 0700));
  return env.MakeTempDir("/run/ka/" + prefix);
}

Status MountStack::UnmountAll() {
  Status first;
  while (!dirs_.empty()) {
    std::string d = dirs_.back();
    dirs_.pop_back();
    Status s = Unmount(env_, d);
    if (!s.ok()) {
      LogWarn("{}", s.ToString());
      if (first.ok()) first = s;
    }
  }
  return first;
}

}  // namespace ka::os
