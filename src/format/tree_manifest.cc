#include "format/tree_manifest.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sodium.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "format/fs_walk.h"
#include "util/escape.h"
#include "util/fd.h"

namespace ka::format {
namespace {

constexpr size_t kHashBlock = 64 * 1024;
constexpr unsigned kListedFlags = FS_APPEND_FL | FS_IMMUTABLE_FL | FS_NODUMP_FL | FS_NOATIME_FL;

std::string Hex(const unsigned char* p, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += kHex[p[i] >> 4];
    s += kHex[p[i] & 15];
  }
  return s;
}

std::string ShortHash(const std::string& v) {
  unsigned char h[16];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(v.data()), v.size(), nullptr, 0);
  return Hex(h, sizeof h);
}

struct Item {
  std::string path;
  std::string fields;
  bool linkable = false;  // a non-directory with more than one link
  dev_t dev = 0;
  ino_t ino = 0;
};

// Reads exactly n bytes at off (holes read as zeros); short only at EOF.
Result<size_t> PreadFull(int fd, char* buf, size_t n, off_t off) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, buf + got, n - got, off + static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Status::Io(ErrnoMessage("read", errno));
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

class Manifester {
 public:
  explicit Manifester(const ManifestOptions& options) : options_(options), buf_(kHashBlock) {}
  Result<std::string> Run(const std::string& root);

 private:
  Status Walk(int dirfd, const std::string& rel);
  Status Add(int parent_fd, const std::string& name, const std::string& rel, const struct stat& st, int fd);
  Result<std::string> ContentHash(int fd, const struct stat& st, const std::string& rel);
  Result<std::string> DataMap(int fd, const struct stat& st, const std::string& rel);
  Result<std::string> Xattrs(int fd, const std::string& proc_path, const std::string& rel);

  const ManifestOptions& options_;
  std::set<std::string> excluded_;
  FsIdentity root_id_;
  std::vector<Item> items_;
  std::vector<char> buf_;
};

// BLAKE2b over 64 KiB blocks; runs of all-zero blocks (read or known holes) enter
// as 'Z' + count, other blocks as 'D' + bytes, and the size ends it.
Result<std::string> Manifester::ContentHash(int fd, const struct stat& st, const std::string& rel) {
  crypto_generichash_state h;
  crypto_generichash_init(&h, nullptr, 0, crypto_generichash_BYTES);
  const off_t size = st.st_size;
  uint64_t zero_run = 0;
  auto flush_zeros = [&] {
    if (zero_run == 0) return;
    unsigned char tok[9] = {'Z'};
    for (int i = 0; i < 8; ++i) tok[1 + i] = static_cast<unsigned char>(zero_run >> (8 * i));
    crypto_generichash_update(&h, tok, sizeof tok);
    zero_run = 0;
  };
  off_t pos = 0;
  off_t data_until = 0;  // [pos, data_until) known to hold data
  bool seek_ok = true;
  while (pos < size) {
    const off_t block = std::min<off_t>(kHashBlock, size - pos);
    if (seek_ok && pos >= data_until) {
      off_t d = ::lseek(fd, pos, SEEK_DATA);
      if (d < 0 && errno == ENXIO) d = size;
      if (d < 0) {
        seek_ok = false;  // no SEEK_DATA here: read everything
      } else {
        // Whole blocks before the next data are zeros.
        off_t skip = (d - pos) / static_cast<off_t>(kHashBlock) * static_cast<off_t>(kHashBlock);
        if (pos + skip >= size) skip = size - pos;
        if (skip > 0) {
          zero_run +=
              static_cast<uint64_t>((skip + static_cast<off_t>(kHashBlock) - 1) / static_cast<off_t>(kHashBlock));
          pos += skip;
          continue;
        }
        off_t hole = ::lseek(fd, d, SEEK_HOLE);
        data_until = hole < 0 ? size : hole;
      }
    }
    auto got = PreadFull(fd, buf_.data(), static_cast<size_t>(block), pos);
    if (!got.ok()) return got.status().Wrap(rel);
    if (*got != static_cast<size_t>(block)) return Status::Io(rel + ": file shrank while being read");
    bool zero = true;
    for (size_t i = 0; i < *got && zero; ++i) zero = buf_[i] == 0;
    if (zero) {
      ++zero_run;
    } else {
      flush_zeros();
      const unsigned char d = 'D';
      crypto_generichash_update(&h, &d, 1);
      crypto_generichash_update(&h, reinterpret_cast<const unsigned char*>(buf_.data()), *got);
    }
    pos += block;
  }
  flush_zeros();
  std::string end = "S" + std::to_string(size);
  crypto_generichash_update(&h, reinterpret_cast<const unsigned char*>(end.data()), end.size());
  unsigned char out[crypto_generichash_BYTES];
  crypto_generichash_final(&h, out, sizeof out);
  return Hex(out, sizeof out);
}

// "0+4096,10485760+3" when the file has fewer blocks than bytes and a hole; "" otherwise.
Result<std::string> Manifester::DataMap(int fd, const struct stat& st, const std::string& rel) {
  if (!MayBeSparse(st)) return std::string();
  std::string map;
  bool hole = false;
  off_t pos = 0;
  while (pos < st.st_size) {
    off_t d = ::lseek(fd, pos, SEEK_DATA);
    if (d < 0 && errno == ENXIO) {
      hole = true;
      break;
    }
    if (d < 0 && errno == EINVAL) return std::string();  // no SEEK_DATA: no holes to show
    if (d < 0) return Status::Io(ErrnoMessage("lseek SEEK_DATA " + rel, errno));
    if (d > pos) hole = true;
    off_t h = ::lseek(fd, d, SEEK_HOLE);
    if (h < 0) return Status::Io(ErrnoMessage("lseek SEEK_HOLE " + rel, errno));
    if (h < st.st_size) hole = true;
    map += (map.empty() ? "" : ",") + std::to_string(d) + "+" + std::to_string(h - d);
    pos = h;
  }
  if (!hole) return std::string();
  return map.empty() ? std::string("-") : map;
}

// Sorted "name:hash,..." of all xattrs, read through `fd` if >= 0, else by the path
// (a /proc/self/fd/N/NAME path, symlinks not followed).
Result<std::string> Manifester::Xattrs(int fd, const std::string& proc_path, const std::string& rel) {
  std::vector<char> names(1024);
  for (;;) {
    ssize_t n = fd >= 0 ? ::flistxattr(fd, names.data(), names.size())
                        : ::llistxattr(proc_path.c_str(), names.data(), names.size());
    if (n >= 0) {
      names.resize(static_cast<size_t>(n));
      break;
    }
    if (errno == ENOTSUP) return std::string();
    if (errno != ERANGE) return Status::Io(ErrnoMessage("listing xattrs of " + rel, errno));
    names.resize(names.size() * 4);
  }
  std::vector<std::string> list;
  for (size_t i = 0; i < names.size();) {
    std::string name(names.data() + i);
    i += name.size() + 1;
    if (!name.empty()) list.push_back(name);
  }
  std::sort(list.begin(), list.end());
  std::string out;
  for (const auto& name : list) {
    std::string value(256, '\0');
    for (;;) {
      ssize_t n = fd >= 0 ? ::fgetxattr(fd, name.c_str(), value.data(), value.size())
                          : ::lgetxattr(proc_path.c_str(), name.c_str(), value.data(), value.size());
      if (n >= 0) {
        value.resize(static_cast<size_t>(n));
        break;
      }
      if (errno != ERANGE) return Status::Io(ErrnoMessage("reading xattr " + name + " of " + rel, errno));
      value.resize(value.size() * 4);
    }
    out += (out.empty() ? "" : ",") + EscapeBytes(name) + ":" + ShortHash(value);
  }
  return out;
}

Status Manifester::Add(int parent_fd, const std::string& name, const std::string& rel, const struct stat& st, int fd) {
  Item item;
  item.path = rel;
  char type = '?';
  switch (st.st_mode & S_IFMT) {
    case S_IFDIR:
      type = 'd';
      break;
    case S_IFREG:
      type = 'f';
      break;
    case S_IFLNK:
      type = 'l';
      break;
    case S_IFCHR:
      type = 'c';
      break;
    case S_IFBLK:
      type = 'b';
      break;
    case S_IFIFO:
      type = 'p';
      break;
    default:
      return Status::Io(rel + ": unknown file type " + std::to_string(st.st_mode & S_IFMT));
  }
  char head[160];
  std::snprintf(head, sizeof head, "%c mode=%04o uid=%u gid=%u", type, static_cast<unsigned>(st.st_mode & 07777),
                static_cast<unsigned>(st.st_uid), static_cast<unsigned>(st.st_gid));
  std::string f = head;
  if (type != 'd') f += " size=" + std::to_string(st.st_size);
  char mtime[64];
  std::snprintf(mtime, sizeof mtime, " mtime=%lld.%09ld", static_cast<long long>(st.st_mtim.tv_sec),
                static_cast<long>(st.st_mtim.tv_nsec));
  f += mtime;
  if (type == 'f') {
    if (options_.hash_content) {
      auto h = ContentHash(fd, st, rel);
      if (!h.ok()) return h.status();
      f += " hash=" + *h;
    }
    auto map = DataMap(fd, st, rel);
    if (!map.ok()) return map.status();
    if (!map->empty()) f += " data=" + *map;
  } else if (type == 'l') {
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n = ::readlinkat(parent_fd, name.c_str(), target.data(), target.size());
    if (n < 0) return Status::Io(ErrnoMessage("readlink " + EscapeBytes(rel), errno));
    target.resize(static_cast<size_t>(n));
    f += " target=" + EscapeBytes(target);
  } else if (type == 'c' || type == 'b') {
    f += " rdev=" + std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
  }
  if (fd >= 0) {
    unsigned flags = 0;
    if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & kListedFlags) != 0) {
      char b[32];
      std::snprintf(b, sizeof b, " flags=0x%x", flags & kListedFlags);
      f += b;
    }
  }
  std::string proc = "/proc/self/fd/" + std::to_string(parent_fd) + (name.empty() ? "" : "/" + name);
  auto x = Xattrs(fd, proc, EscapeBytes(rel));
  if (!x.ok()) return x.status();
  if (!x->empty()) f += " xattr=" + *x;
  item.fields = f;
  item.linkable = type != 'd' && st.st_nlink > 1;
  item.dev = st.st_dev;
  item.ino = st.st_ino;
  items_.push_back(std::move(item));
  return Status::Ok();
}

Status Manifester::Walk(int dirfd, const std::string& rel) {
  std::vector<std::string> names;
  {
    int dup = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dup < 0) return Status::Io(ErrnoMessage("open directory " + EscapeBytes(rel), errno));
    DIR* d = ::fdopendir(dup);
    if (d == nullptr) {
      ::close(dup);
      return Status::Io(ErrnoMessage("opendir " + EscapeBytes(rel), errno));
    }
    errno = 0;
    while (struct dirent* de = ::readdir(d)) {
      if (std::strcmp(de->d_name, ".") != 0 && std::strcmp(de->d_name, "..") != 0) names.emplace_back(de->d_name);
      errno = 0;
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return Status::Io(ErrnoMessage("reading directory " + EscapeBytes(rel), err));
  }
  for (const auto& name : names) {
    const std::string child = rel == "." ? name : rel + "/" + name;
    const std::string shown = EscapeBytes(child);
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return Status::Io(ErrnoMessage("lstat " + shown, errno));
    if (S_ISSOCK(st.st_mode)) continue;
    const bool excluded = excluded_.count(child) > 0;
    if (S_ISDIR(st.st_mode)) {
      UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd.valid()) return Status::Io(ErrnoMessage("open directory " + shown, errno));
      KA_RETURN_IF_ERROR(Add(dirfd, name, child, st, fd.get()));
      bool descend = !excluded;
      if (descend && options_.one_file_system) {
        auto id = FsIdentityAt(fd.get(), "");
        if (!id.ok()) return id.status().Wrap(shown);
        descend = *id == root_id_;
      }
      if (descend) KA_RETURN_IF_ERROR(Walk(fd.get(), child));
    } else if (excluded) {
      continue;
    } else if (S_ISREG(st.st_mode)) {
      UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC));
      if (!fd.valid() && errno == EPERM) fd.reset(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd.valid()) return Status::Io(ErrnoMessage("open " + shown, errno));
      KA_RETURN_IF_ERROR(Add(dirfd, name, child, st, fd.get()));
    } else {
      KA_RETURN_IF_ERROR(Add(dirfd, name, child, st, -1));
    }
  }
  return Status::Ok();
}

Result<std::string> Manifester::Run(const std::string& root) {
  if (sodium_init() < 0) return Status::Io("libsodium failed to initialise");
  for (const auto& x : options_.exclude_contents) excluded_.insert(NormalizeRelativePath(x));
  UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Status::Invalid(ErrnoMessage("tree root " + root, errno) + " (give an existing directory)");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Status::Io(ErrnoMessage("stat " + root, errno));
  auto id = FsIdentityAt(fd.get(), "");
  if (!id.ok()) return id.status().Wrap("tree root " + root);
  root_id_ = *id;
  KA_RETURN_IF_ERROR(Add(fd.get(), "", ".", st, fd.get()));
  if (excluded_.count(".") == 0) KA_RETURN_IF_ERROR(Walk(fd.get(), "."));

  // Hardlink groups: the smallest of the names found.
  std::map<std::pair<dev_t, ino_t>, std::pair<size_t, std::string>> groups;
  for (const auto& it : items_) {
    if (!it.linkable) continue;
    auto [g, inserted] = groups.try_emplace({it.dev, it.ino}, 0, it.path);
    ++g->second.first;
    if (!inserted && it.path < g->second.second) g->second.second = it.path;
  }
  std::sort(items_.begin(), items_.end(), [](const Item& a, const Item& b) { return a.path < b.path; });
  std::string out;
  for (const auto& it : items_) {
    out += EscapeBytes(it.path) + " " + it.fields;
    if (it.linkable) {
      const auto& g = groups[{it.dev, it.ino}];
      if (g.first > 1) out += " link=" + EscapeBytes(g.second);
    }
    out += "\n";
  }
  return out;
}

}  // namespace

Result<std::string> TreeManifest(const std::string& root, const ManifestOptions& options) {
  return Manifester(options).Run(root);
}

}  // namespace ka::format
