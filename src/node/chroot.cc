#include "node/chroot.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <thread>

#include "node/private_dev.h"
#include "node/root_fs.h"
#include "util/log.h"

namespace ka::node {

Status ChrootMounts::MountOne(const std::string& source, const std::string& target, const std::string& fstype,
                              unsigned long flags, const std::string& data) {
  KA_RETURN_IF_ERROR(mounter_.Mount(source, target, fstype, flags, data));
  mounted_.push_back(target);
  return mounter_.Mount("", target, "", MS_PRIVATE, "");
}

Result<std::unique_ptr<ChrootMounts>> ChrootMounts::Setup(const std::string& root, os::Env& mounter,
                                                          const std::vector<BlockNode>& disk_nodes) {
  auto fs = RootFs::Open(root);
  if (!fs.ok()) return fs.status();
  std::unique_ptr<ChrootMounts> m(new ChrootMounts(fs->root(), mounter));
  for (const char* dir : {"dev", "proc", "sys", "run"}) {
    auto e = fs->Resolve(dir, /*follow_last=*/false);
    if (!e.ok()) return e.status();
    if (e->is_symlink()) {
      return Status::Invalid(m->root_ + "/" + dir + " is a symlink (to " + fs->ReadLink(dir).value_or("?") +
                             "): ka mounts only on directories of the image");
    }
    if (e->exists && !e->is_dir()) return Status::Invalid(m->root_ + "/" + dir + " is not a directory");
    if (!e->exists) {
      auto made = fs->MakeDirs(dir, 0755);
      if (!made.ok()) return made.status();
      m->created_.push_back(e->host);
    }
  }
  const std::string r = m->root_;
  Status s = m->MountOne("tmpfs", r + "/dev", "tmpfs", MS_NOSUID, "mode=0755");
  if (s.ok()) s = PopulatePrivateDev(r + "/dev", disk_nodes, mounter);
  if (s.ok() && mounter.IsDirectory("/dev/pts")) s = m->MountOne("/dev/pts", r + "/dev/pts", "", MS_BIND, "");
  if (s.ok()) s = m->MountOne("/proc", r + "/proc", "", MS_BIND, "");
  if (s.ok()) s = m->MountOne("/sys", r + "/sys", "", MS_BIND, "");
  if (s.ok() && mounter.IsDirectory("/sys/firmware/efi/efivars")) {
    s = m->MountOne("/sys/firmware/efi/efivars", r + "/sys/firmware/efi/efivars", "", MS_BIND, "");
  }
  if (s.ok()) s = m->MountOne("tmpfs", r + "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
  if (!s.ok()) {
    Status undo = m->Release();
    if (!undo.ok()) LogWarn("undoing the chroot mounts in {}: {}", r, undo.message());
    return s.Wrap("preparing the chroot " + r);
  }
  LogInfo("chroot {} ready: {} mounts", r, m->mounted_.size());
  return m;
}

ChrootMounts::~ChrootMounts() {
  if (mounted_.empty()) return;
  Status s = Release();
  if (!s.ok()) LogWarn("{}", s.message());
}

Status ChrootMounts::Release() {
  std::vector<std::string> failed, lazy_now;
  while (!mounted_.empty()) {
    const std::string target = mounted_.back();
    mounted_.pop_back();
    Status s = mounter_.Unmount(target, 0);
    for (int i = 0; !s.ok() && i < 3; ++i) {
      mounter_.Pause(std::chrono::milliseconds(100));
      s = mounter_.Unmount(target, 0);
    }
    if (s.ok()) continue;
    LogWarn("{}; detaching it lazily", s.message());
    Status lazy = mounter_.Unmount(target, MNT_DETACH);
    if (lazy.ok()) {
      lazy_.push_back(target);
      lazy_now.push_back(target);
    } else {
      failed.push_back(lazy.message());
    }
  }
  if (failed.empty() && lazy_now.empty()) return Status::Ok();
  std::vector<std::string> parts;
  if (!lazy_now.empty()) {
    std::string l;
    for (const auto& t : lazy_now) l += (l.empty() ? "" : ", ") + t;
    parts.push_back(l + " stayed busy and " + (lazy_now.size() == 1 ? "was" : "were") +
                    " detached lazily (a process may still run in the chroot: fuser -vm " + root_ + ")");
  }
  parts.insert(parts.end(), failed.begin(), failed.end());
  std::string msg = "releasing the chroot " + root_ + ": ";
  for (size_t i = 0; i < parts.size(); ++i) msg += (i ? "; " : "") + parts[i];
  return Status::Io(msg);
}

}  // namespace ka::node
