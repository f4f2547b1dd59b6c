// ChrootMounts: what a chroot into ROOT needs to run grub-install, update-initramfs
// or dracut: a private /dev (a tmpfs holding the usual devices, the target disk and
// its partitions and their udev-style /dev/disk links: private_dev.h), the host's
// /dev/pts, /proc, /sys (and efivars on an EFI host) bind-mounted into ROOT, and a
// fresh tmpfs on ROOT/run. Each mount is made private
// at once, so nothing mounted or unmounted under it propagates back to the host.
// Everything is unmounted in reverse order by Release() or the destructor; a busy
// mount is detached lazily only as a last resort, and that is reported.
//
// All mount(2) calls go through os::Env, so the order is unit-tested without root.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "node/dev_links.h"
#include "os/env.h"
#include "util/status.h"

namespace ka::node {

class ChrootMounts {
 public:
  // Mounts, in this order (each made MS_PRIVATE right after):
  //   tmpfs (nosuid,mode=0755) on ROOT/dev, filled by PopulatePrivateDev with
  //   `disk_nodes`, /dev/pts -> ROOT/dev/pts (MS_BIND), /proc ->
  //   ROOT/proc, /sys -> ROOT/sys, /sys/firmware/efi/efivars -> the same under
  //   ROOT/sys when the host has it, tmpfs (nosuid,nodev,mode=0755) on ROOT/run.
  // ROOT/dev, proc, sys and run must be directories, not symlinks; missing ones are
  // created (0755). On failure everything mounted so far is unmounted again.
  static Result<std::unique_ptr<ChrootMounts>> Setup(const std::string& root, os::Env& mounter,
                                                     const std::vector<BlockNode>& disk_nodes = {});
  ~ChrootMounts();
  ChrootMounts(const ChrootMounts&) = delete;
  ChrootMounts& operator=(const ChrootMounts&) = delete;

  const std::string& root() const { return root_; }
  // The mount points still mounted, in mount order.
  const std::vector<std::string>& mounted() const { return mounted_; }
  // Mount points ROOT/... that Setup created in the image.
  const std::vector<std::string>& created() const { return created_; }

  // Unmounts everything, in reverse order. A busy mount is tried again three times
  // (100 ms apart), then detached lazily (MNT_DETACH): that still returns an error
  // naming it (a process may be left running in the chroot), as does a mount that
  // could not be removed at all. Afterwards nothing is mounted (or it never will be).
  Status Release();
  // Mount points that had to be detached lazily.
  const std::vector<std::string>& lazily_detached() const { return lazy_; }

 private:
  ChrootMounts(std::string root, os::Env& m) : root_(std::move(root)), mounter_(m) {}
  Status MountOne(const std::string& source, const std::string& target, const std::string& fstype,
                  unsigned long flags, const std::string& data);
  std::string root_;
  os::Env& mounter_;
  std::vector<std::string> mounted_;
  std::vector<std::string> created_;
  std::vector<std::string> lazy_;
};

}  // namespace ka::node
