#include "node/tree_extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
#include <locale.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "util/archive_ptr.h"
#include "util/escape.h"
#include "util/fd.h"

namespace ka::node {
namespace {


// Owners, modes, times, ACLs, xattrs (security.capability last: libarchive sets
// xattrs after chown and chmod when running as root), file flags; refuse "..",
// absolute paths and writing through symlinks. Deliberately not
// ARCHIVE_EXTRACT_SPARSE (it would punch holes into stored zeros, e.g. swap files)
// and no archive_write_disk_set_standard_lookup (ids stay numeric).
constexpr int kExtractFlags = ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                              ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_FFLAGS |
                              ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                              ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;

struct ReadContext {
  int fd = -1;
  std::vector<char> buf = std::vector<char>(1 << 20);
  bool failed = false;
  Status status;
};

la_ssize_t ReadCallback(struct archive* a, void* client, const void** out) {
  auto* c = static_cast<ReadContext*>(client);
  for (;;) {
    ssize_t n = ::read(c->fd, c->buf.data(), c->buf.size());
    if (n >= 0) {
      *out = c->buf.data();
      return n;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {  // a non-blocking pipe: wait for it
      struct pollfd p = {c->fd, POLLIN, 0};
      ::poll(&p, 1, -1);
      continue;
    }
    int err = errno;
    c->failed = true;
    c->status = Status::Io(ErrnoMessage("reading the archive stream", err));
    archive_set_error(a, err, "reading the archive stream failed");
    return -1;
  }
}

// Entry names must stay below the root: relative, without "..".
Status CheckInside(const char* name, const char* what, const std::string& entry) {
  std::string p = name != nullptr ? name : "";
  if (p.empty()) return Status::Corruption("archive entry without a " + std::string(what) + " after " + entry);
  if (p[0] == '/')
    return Status::Refused("refusing archive entry " + entry + ": absolute " + what + " " + EscapeBytes(p) +
                           " (check where the archive came from)");
  size_t pos = 0;
  while (pos <= p.size()) {
    size_t slash = p.find('/', pos);
    if (slash == std::string::npos) slash = p.size();
    if (p.compare(pos, slash - pos, "..") == 0 && slash - pos == 2)
      return Status::Refused("refusing archive entry " + entry + ": " + what + " " + EscapeBytes(p) +
                             " goes up with '..' (check where the archive came from)");
    pos = slash + 1;
  }
  return Status::Ok();
}

// The entry's POSIX ACL of `type` (ARCHIVE_ENTRY_ACL_TYPE_ACCESS or _DEFAULT) as the
// value of the system.posix_acl_* xattr (the kernel's format: version 2, then
// little-endian {tag, perm, id} sorted by tag and id); "" if there is none (for
// access: nothing beyond the owner/group/other entries that the mode holds).
std::string AclXattrValue(struct archive_entry* e, int type) {
  if (archive_entry_acl_reset(e, type) <= 0) return "";
  std::map<std::pair<uint16_t, uint32_t>, uint16_t> acl;  // (tag, id) -> perm
  bool extended = false;
  int t = 0, perm = 0, tag = 0, id = 0;
  const char* name = nullptr;
  while (archive_entry_acl_next(e, type, &t, &perm, &tag, &id, &name) == ARCHIVE_OK) {
    uint16_t ktag = 0;
    uint32_t kid = static_cast<uint32_t>(ACL_UNDEFINED_ID);
    switch (tag) {
      case ARCHIVE_ENTRY_ACL_USER_OBJ:
        ktag = ACL_USER_OBJ;
        break;
      case ARCHIVE_ENTRY_ACL_USER:
        ktag = ACL_USER, kid = static_cast<uint32_t>(id), extended = true;
        break;
      case ARCHIVE_ENTRY_ACL_GROUP_OBJ:
        ktag = ACL_GROUP_OBJ;
        break;
      case ARCHIVE_ENTRY_ACL_GROUP:
        ktag = ACL_GROUP, kid = static_cast<uint32_t>(id), extended = true;
        break;
      case ARCHIVE_ENTRY_ACL_MASK:
        ktag = ACL_MASK, extended = true;
        break;
      case ARCHIVE_ENTRY_ACL_OTHER:
        ktag = ACL_OTHER;
        break;
      default:
        continue;  // NFSv4 entries do not exist on Linux filesystems
    }
    acl[{ktag, kid}] = static_cast<uint16_t>(perm & 7);  // rwx bits are the same in both
  }
  if (acl.empty() || (type == ARCHIVE_ENTRY_ACL_TYPE_ACCESS && !extended)) return "";
  std::string v;
  auto put = [&v](uint32_t x, int bytes) {
    for (int i = 0; i < bytes; ++i) v += static_cast<char>((x >> (8 * i)) & 0xff);
  };
  put(POSIX_ACL_XATTR_VERSION, 4);
  for (const auto& [key, p] : acl) {
    put(key.first, 2);
    put(p, 2);
    put(key.second, 4);
  }
  return v;
}

// Sets (or removes, for "") one ACL xattr of a path below the working directory.
Status SetAclXattr(const char* path, const char* xattr, const std::string& value, const std::string& shown) {
  if (value.empty()) {
    if (::lremovexattr(path, xattr) != 0 && errno != ENODATA && errno != ENOTSUP)
      return Status::Io(ErrnoMessage("removing " + std::string(xattr) + " of " + shown, errno));
    return Status::Ok();
  }
  if (::lsetxattr(path, xattr, value.data(), value.size(), 0) != 0)
    return Status::Io(ErrnoMessage("restoring the ACL " + std::string(xattr) + " of " + shown, errno) +
                      " (does the target filesystem support POSIX ACLs?)");
  return Status::Ok();
}

class Extractor {
 public:
  explicit Extractor(int fd) { ctx_.fd = fd; }
  Result<ExtractStats> Run();

 private:
  Status ReadFailure(const std::string& where);
  Status WriteFailure(const std::string& what, const std::string& entry);
  Status ExtractOne(struct archive_entry* e, const std::string& shown);
  Status RestoreExistingDirs();

  ReadContext ctx_;
  ArchiveReadPtr in_;
  ArchiveWritePtr out_;
  ExtractStats stats_;
  // Directories that existed before (the root ".", lost+found): libarchive 3.6.2
  // restores their times at once instead of after their contents (so creating the
  // contents changes their mtime again), and never restores their default ACL (its
  // deferred fixup lacks the directory's mode). They are extracted without ACLs
  // first (nothing inherits a default ACL) and without file flags (an immutable
  // flag would block their contents); at the end libarchive restores the rest
  // (times last) once more, then we set their ACLs and flags ourselves.
  std::vector<ArchiveEntryPtr> existing_dirs_;
};

Status Extractor::ReadFailure(const std::string& where) {
  if (ctx_.failed) return ctx_.status.Wrap(where);
  return Status::Corruption("archive truncated or corrupt " + where + " (" + std::to_string(stats_.entries) +
                            " entries extracted): " + ArchiveMessage(in_.get()));
}

Status Extractor::WriteFailure(const std::string& what, const std::string& entry) {
  std::string m = ArchiveMessage(out_.get());
  // libarchive's messages rarely say why ("Can't create 'x'"): add the system's reason.
  int err = archive_errno(out_.get());
  if (err > 0 && err != EINVAL && err != EILSEQ) m += " (" + std::string(std::strerror(err)) + ")";
  std::string text = what + " " + entry + ": " + m;
  if (m.find("symlink") != std::string::npos || m.find("..") != std::string::npos ||
      m.find("absolute") != std::string::npos)
    return Status::Refused("refusing archive entry " + entry + ": " + m + " (check where the archive came from)");
  return Status::Io(text);
}

Status Extractor::ExtractOne(struct archive_entry* e, const std::string& shown) {
  KA_RETURN_IF_ERROR(CheckInside(archive_entry_pathname(e), "path", shown));
  if (archive_entry_hardlink(e) != nullptr)
    KA_RETURN_IF_ERROR(CheckInside(archive_entry_hardlink(e), "hardlink target", shown));
  struct stat st {};
  if (archive_entry_filetype(e) == AE_IFDIR &&
      ::fstatat(AT_FDCWD, archive_entry_pathname(e), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
    ArchiveEntryPtr copy(archive_entry_clone(e));
    if (!copy) return Status::Io("libarchive: out of memory");
    existing_dirs_.push_back(std::move(copy));
    archive_entry_acl_clear(e);
    archive_entry_set_fflags(e, 0, 0);  // an immutable flag now would block its contents
  }
  if (archive_write_header(out_.get(), e) != ARCHIVE_OK) return WriteFailure("extracting", shown);
  if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0) {
    for (;;) {
      const void* buf = nullptr;
      size_t len = 0;
      la_int64_t off = 0;
      int r = archive_read_data_block(in_.get(), &buf, &len, &off);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK) return ReadFailure("in entry " + shown);
      if (archive_write_data_block(out_.get(), buf, len, off) < 0) return WriteFailure("writing", shown);
      stats_.bytes += len;
    }
  }
  if (archive_write_finish_entry(out_.get()) != ARCHIVE_OK) return WriteFailure("restoring metadata of", shown);
  ++stats_.entries;
  return Status::Ok();
}

Result<ExtractStats> Extractor::Run() {
  in_.reset(archive_read_new());
  out_.reset(archive_write_disk_new());
  if (!in_ || !out_) return Status::Io("libarchive: out of memory");
  archive_read_support_filter_zstd(in_.get());
  archive_read_support_format_tar(in_.get());
  if (archive_write_disk_set_options(out_.get(), kExtractFlags) != ARCHIVE_OK)
    return Status::Io("libarchive extract options: " + ArchiveMessage(out_.get()));
  if (archive_read_open(in_.get(), &ctx_, nullptr, ReadCallback, nullptr) != ARCHIVE_OK)
    return ReadFailure("at its start");
  std::string shown = "(none yet)";
  for (;;) {
    struct archive_entry* e = nullptr;
    int r = archive_read_next_header(in_.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK) return ReadFailure("after entry " + shown);
    const char* name = archive_entry_pathname(e);
    shown = "'" + EscapeBytes(name != nullptr ? name : "") + "'";
    KA_RETURN_IF_ERROR(ExtractOne(e, shown));
  }
  // Directories' deferred mode, times, ACLs and flags.
  if (archive_write_close(out_.get()) != ARCHIVE_OK)
    return Status::Io("restoring directory metadata: " + ArchiveMessage(out_.get()));
  KA_RETURN_IF_ERROR(RestoreExistingDirs());
  return stats_;
}

// Deepest first (the reverse of archive order, where parents come first).
Status Extractor::RestoreExistingDirs() {
  if (existing_dirs_.empty()) return Status::Ok();
  out_.reset(archive_write_disk_new());
  if (!out_) return Status::Io("libarchive: out of memory");
  if (archive_write_disk_set_options(out_.get(), kExtractFlags) != ARCHIVE_OK)
    return Status::Io("libarchive extract options: " + ArchiveMessage(out_.get()));
  struct Later {
    std::string path, shown, access, def;
    unsigned long set = 0, clear = 0;
  };
  std::vector<Later> later;
  for (auto it = existing_dirs_.rbegin(); it != existing_dirs_.rend(); ++it) {
    struct archive_entry* e = it->get();
    const char* path = archive_entry_pathname(e);
    const std::string shown = "'" + EscapeBytes(path) + "'";
    Later l{path, shown, AclXattrValue(e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS),
            AclXattrValue(e, ARCHIVE_ENTRY_ACL_TYPE_DEFAULT)};
    archive_entry_fflags(e, &l.set, &l.clear);
    later.push_back(l);
    archive_entry_acl_clear(e);
    archive_entry_set_fflags(e, 0, 0);
    if (archive_write_header(out_.get(), e) != ARCHIVE_OK || archive_write_finish_entry(out_.get()) != ARCHIVE_OK)
      return WriteFailure("restoring metadata of existing directory", shown);
  }
  if (archive_write_close(out_.get()) != ARCHIVE_OK)
    return Status::Io("restoring metadata of existing directories: " + ArchiveMessage(out_.get()));
  // After the chmod: libarchive's entry mode carries the ACL's group entry in its
  // group bits, and a chmod after the ACL would turn that into the ACL's mask.
  // File flags last: libarchive sets them before the times, which an immutable
  // directory then refuses. (libarchive's fflags bits are the Linux FS_*_FL ones.)
  for (const auto& l : later) {
    KA_RETURN_IF_ERROR(SetAclXattr(l.path.c_str(), "system.posix_acl_access", l.access, l.shown));
    KA_RETURN_IF_ERROR(SetAclXattr(l.path.c_str(), "system.posix_acl_default", l.def, l.shown));
    if (l.set == 0 && l.clear == 0) continue;
    UniqueFd fd(::open(l.path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    unsigned flags = 0;
    if (!fd.valid() || ::ioctl(fd.get(), FS_IOC_GETFLAGS, &flags) != 0) {
      return Status::Io(ErrnoMessage("reading the file flags of " + l.shown, errno));
    }
    flags = static_cast<unsigned>((flags & ~l.clear) | l.set);
    if (::ioctl(fd.get(), FS_IOC_SETFLAGS, &flags) != 0)
      return Status::Io(ErrnoMessage("restoring the file flags (chattr) of " + l.shown, errno));
  }
  return Status::Ok();
}

// In its own thread: a private working directory (the root) and locale.
Result<ExtractStats> ExtractInThread(int fd, int root_fd, const std::string& root) {
  if (::unshare(CLONE_FS) != 0)
    return Status::Io(ErrnoMessage("unshare(CLONE_FS) for a private working directory", errno));
  if (::fchdir(root_fd) != 0) return Status::Io(ErrnoMessage("chdir " + root, errno));
  // Pax names without hdrcharset=BINARY are UTF-8; convert them to UTF-8 (= keep
  // them) rather than to the process's "C" locale, which would mangle them.
  locale_t utf8 = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  if (utf8 != static_cast<locale_t>(nullptr)) ::uselocale(utf8);
  auto result = Extractor(fd).Run();
  if (utf8 != static_cast<locale_t>(nullptr)) {
    ::uselocale(LC_GLOBAL_LOCALE);
    ::freelocale(utf8);
  }
  return result;
}

}  // namespace

Result<ExtractStats> ExtractTree(int fd, const std::string& root) {
  UniqueFd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid())
    return Status::Invalid(ErrnoMessage("extraction root " + root, errno) + " (give an existing directory)");
  std::optional<Result<ExtractStats>> result;
  std::thread worker([&] { result.emplace(ExtractInThread(fd, root_fd.get(), root)); });
  worker.join();
  return std::move(*result);
}

}  // namespace ka::node
