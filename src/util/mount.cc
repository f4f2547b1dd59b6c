#include "util/mount.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "util/log.h"

namespace ka {

Status MountFs(const std::string& device, const std::string& dir, const std::string& type, bool read_only,
               const std::string& data) {
  unsigned long flags = MS_NODEV | MS_NOSUID;
  if (read_only) flags |= MS_RDONLY;
  if (::mount(device.c_str(), dir.c_str(), type.c_str(), flags, data.empty() ? nullptr : data.c_str()) != 0) {
    int e = errno;
    std::string hint = e == ENODEV ? " (the kernel does not support " + type + ")" : "";
    return Status::Io("mount " + device + " on " + dir + " (" + type + (read_only ? ", read-only" : "") +
                      (data.empty() ? "" : ", " + data) + "): " + std::strerror(e) + hint);
  }
  return Status::Ok();
}

Status BindReadOnly(const std::string& src, const std::string& dir) {
  if (::mount(src.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) != 0)
    return Status::Io("bind mount " + src + " on " + dir + ": " + std::strerror(errno));
  if (::mount(nullptr, dir.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
    Status s = Status::Io("making the bind mount of " + src + " read-only: " + std::strerror(errno));
    ::umount2(dir.c_str(), 0);
    return s;
  }
  return Status::Ok();
}

Status Unmount(const std::string& dir) {
  for (int i = 0; i < 20; ++i) {
    if (::umount2(dir.c_str(), 0) == 0) return Status::Ok();
    if (errno == EINVAL || errno == ENOENT) return Status::Ok();  // not mounted (any more)
    if (errno != EBUSY) return Status::Io("unmount " + dir + ": " + std::strerror(errno));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (::umount2(dir.c_str(), MNT_DETACH) == 0)
    return Status::Io("unmount " + dir + ": still busy after 2 s; detached lazily (a process still uses it)");
  return Status::Io("unmount " + dir + ": " + std::strerror(errno));
}

Result<std::string> MakeRunDir(const std::string& prefix) {
  ::mkdir("/run/ka", 0700);
  std::string templ = "/run/ka/" + prefix + ".XXXXXX";
  if (!::mkdtemp(templ.data())) return Status::Io("cannot create a directory under /run/ka: " + std::string(std::strerror(errno)));
  return templ;
}

Status MountStack::UnmountAll() {
  Status first;
  while (!dirs_.empty()) {
    std::string d = dirs_.back();
    dirs_.pop_back();
    Status s = Unmount(d);
    if (!s.ok()) {
      LogWarn("{}", s.ToString());
      if (first.ok()) first = s;
    }
  }
  return first;
}

}  // namespace ka
