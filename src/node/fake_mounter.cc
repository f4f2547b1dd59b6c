#include "node/fake_mounter.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

namespace ka::node {

Status FakeMounter::Mount(const std::string& source, const std::string& target, const std::string& fstype,
                          unsigned long flags, const std::string& data) {
  std::string c;
  if ((flags & MS_PRIVATE) != 0) {
    c = "private " + target;
  } else if ((flags & MS_BIND) != 0) {
    c = std::string((flags & MS_REC) != 0 ? "rbind " : "bind ") + source + " " + target;
  } else {
    std::string opts;
    if ((flags & MS_NOSUID) != 0) opts += "nosuid,";
    if ((flags & MS_NODEV) != 0) opts += "nodev,";
    if (!opts.empty()) opts.pop_back();
    c = fstype + " " + target + (opts.empty() ? "" : " " + opts) + (data.empty() ? "" : " " + data);
  }
  calls.push_back(c);
  if (target == fail_mount && (flags & MS_PRIVATE) == 0) return Status::Io("mount " + target + ": No such device");
  return Status::Ok();
}

Status FakeMounter::Unmount(const std::string& target, int flags) {
  const bool lazy = (flags & MNT_DETACH) != 0;
  calls.push_back((lazy ? "umount-lazy " : "umount ") + target);
  if (stuck.count(target) != 0 || (!lazy && busy.count(target) != 0)) {
    return Status::Io("unmount " + target + ": Device or resource busy");
  }
  return Status::Ok();
}

Status FakeMounter::MakeNode(const std::string& path, mode_t mode, unsigned major, unsigned minor) {
  char perm[8];
  std::snprintf(perm, sizeof perm, "%o", mode & 07777);
  calls.push_back("mknod " + path + (S_ISBLK(mode) ? " b " : " c ") + std::to_string(major) + ":" +
                  std::to_string(minor) + " " + perm);
  if (path == fail_mount) return Status::Io("mknod " + path + ": Operation not permitted");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) ::close(fd);
  return Status::Ok();
}

bool FakeMounter::HostDirExists(const std::string& path) {
  if (path == "/sys/firmware/efi/efivars") return efi;
  return path == "/dev/pts";
}

}  // namespace ka::node
