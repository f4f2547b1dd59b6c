#include "format/fs_walk.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <climits>

namespace ka::format {
namespace {

// Opens the directory holding the last component of `rel` (O_PATH, no symlinks
// followed) and returns it with that last component, for paths too long for one call.
Result<UniqueFd> OpenParentByComponents(int dirfd, const std::string& rel, std::string* last) {
  UniqueFd cur(::fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
  if (!cur.valid()) return Status::Io(ErrnoMessage("dup", errno));
  size_t pos = 0;
  for (;;) {
    size_t slash = rel.find('/', pos);
    if (slash == std::string::npos) {
      *last = rel.substr(pos);
      return cur;
    }
    std::string comp = rel.substr(pos, slash - pos);
    pos = slash + 1;
    if (comp.empty() || comp == ".") continue;
    UniqueFd next(::openat(cur.get(), comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) return Status::Io(ErrnoMessage("open directory " + comp + " of " + rel, errno));
    cur = std::move(next);
  }
}

// REL below DIRFD as a (directory, name) pair a single *at() call accepts: REL itself, or, when
// it is too long for one call, its parent opened component by component (kept in *parent).
Status ShortenPath(int* dirfd, const std::string& rel, std::string* name, UniqueFd* parent) {
  *name = rel.empty() ? "." : rel;
  if (name->size() < PATH_MAX - 1) return Status::Ok();
  auto p = OpenParentByComponents(*dirfd, rel, name);
  if (!p.ok()) return p.status();
  *parent = std::move(*p);
  *dirfd = parent->get();
  return Status::Ok();
}

}  // namespace

Result<FsIdentity> FsIdentityAt(int dirfd, const std::string& rel) {
  UniqueFd parent;
  std::string name;
  if (Status s = ShortenPath(&dirfd, rel, &name, &parent); !s.ok()) return s;
  struct statx stx {};
  if (::statx(dirfd, name.c_str(), AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) != 0)
    return Status::Io(ErrnoMessage("statx " + rel, errno));
  FsIdentity id;
  id.dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
  if (stx.stx_mask & STATX_MNT_ID) id.mnt_id = stx.stx_mnt_id;
  return id;
}

Result<struct stat> LstatAt(int dirfd, const std::string& rel) {
  UniqueFd parent;
  std::string name;
  if (Status s = ShortenPath(&dirfd, rel, &name, &parent); !s.ok()) return s;
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return Status::Io(ErrnoMessage("lstat " + rel, errno));
  return st;
}

std::string NormalizeRelativePath(const std::string& path) {
  std::string out;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    std::string comp = path.substr(pos, slash - pos);
    if (!comp.empty() && comp != ".") out += (out.empty() ? "" : "/") + comp;
    pos = slash + 1;
  }
  return out.empty() ? "." : out;
}

}  // namespace ka::format
