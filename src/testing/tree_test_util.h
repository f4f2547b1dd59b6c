// Test helpers for tree archives (header only, included by the *_test.cc files):
// temporary directories removed even after failures (flags cleared, mounts never
// crossed), mounts and loop-mounted ext4 images undone in destructors, a varied
// tree with every kind of entry a clone must carry, and a WriteTree -> pipe ->
// ExtractTree round trip.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "golden/tree_writer.h"
#include "node/tree_extract.h"
#include "os/run_tool.h"
#include "util/fd.h"

namespace ka::treetest {

inline bool IsRoot() { return ::geteuid() == 0; }

inline void ClearFlagsFd(int fd) {
  unsigned flags = 0;
  if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & (FS_IMMUTABLE_FL | FS_APPEND_FL)) != 0) {
    flags &= ~(FS_IMMUTABLE_FL | FS_APPEND_FL);
    ::ioctl(fd, FS_IOC_SETFLAGS, &flags);
  }
}

inline uint64_t MountIdOf(int fd) {
  struct statx stx {};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) != 0) return 0;
  return stx.stx_mnt_id;
}

inline std::vector<std::string> DirNames(int dirfd) {
  std::vector<std::string> names;
  int dup = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) return names;
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    ::close(dup);
    return names;
  }
  while (struct dirent* de = ::readdir(d))
    if (std::strcmp(de->d_name, ".") != 0 && std::strcmp(de->d_name, "..") != 0) names.emplace_back(de->d_name);
  ::closedir(d);
  return names;
}

// Removes `name` below `parent` and everything under it, fd-relative (paths of any
// length), clearing immutable/append-only flags, never entering another mount.
inline void RemoveAt(int parent, const std::string& name, uint64_t mnt_id) {
  struct stat st {};
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;
    if (MountIdOf(fd) != mnt_id) {  // a mount left behind: leave it alone
      ::close(fd);
      return;
    }
    ClearFlagsFd(fd);
    for (const auto& child : DirNames(fd)) RemoveAt(fd, child, mnt_id);
    ::close(fd);
    ::unlinkat(parent, name.c_str(), AT_REMOVEDIR);
    return;
  }
  if (S_ISREG(st.st_mode)) {
    int fd = ::openat(parent, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      ClearFlagsFd(fd);
      ::close(fd);
    }
  }
  ::unlinkat(parent, name.c_str(), 0);
}

inline void RemoveTree(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  uint64_t mnt = MountIdOf(fd);
  ::close(fd);
  RemoveAt(AT_FDCWD, dir, mnt);
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ka-tree-test.XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    if (!path_.empty()) RemoveTree(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// A mount undone (lazily) when it goes out of scope.
class ScopedMount {
 public:
  ScopedMount(const std::string& source, const std::string& target, const char* fstype, unsigned long flags)
      : target_(target) {
    if (::mount(source.c_str(), target.c_str(), fstype, flags, nullptr) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~ScopedMount() {
    if (mounted_) ::umount2(target_.c_str(), MNT_DETACH);
  }
  ScopedMount(const ScopedMount&) = delete;
  ScopedMount& operator=(const ScopedMount&) = delete;
  bool ok() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string target_;
  bool mounted_ = false;
  std::string error_;
};

// A fresh ext4 filesystem in a sparse image file, loop-mounted at `mount_point`;
// unmounted and its loop device detached in the destructor.
class Ext4Image {
 public:
  Ext4Image(const std::string& image, const std::string& mount_point, uint64_t bytes)
      : image_(image), mount_point_(mount_point) {
    auto mkfs = os::FindTool("mkfs.ext4", "e2fsprogs");
    if (!mkfs.ok()) {
      error_ = mkfs.status().message();
      return;
    }
    int fd = ::open(image.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
      error_ = std::string("creating ") + image + ": " + std::strerror(errno);
      if (fd >= 0) ::close(fd);
      return;
    }
    ::close(fd);
    ::mkdir(mount_point.c_str(), 0755);
    auto r = os::RunTool({*mkfs, "-q", "-F", "-E", "nodiscard", image});
    if (!r.ok() || r->exit_code != 0) {
      error_ = "mkfs.ext4 failed: " + (r.ok() ? r->err : r.status().message());
      return;
    }
    r = os::RunTool({"/usr/bin/mount", "-o", "loop", image, mount_point});
    if (!r.ok() || r->exit_code != 0) {
      error_ = "mount -o loop failed: " + (r.ok() ? r->err : r.status().message());
      Detach();
      return;
    }
    mounted_ = true;
  }
  ~Ext4Image() {
    if (mounted_) {
      auto r = os::RunTool({"/usr/bin/umount", mount_point_});
      if (!r.ok() || r->exit_code != 0) ::umount2(mount_point_.c_str(), MNT_DETACH);
    }
    Detach();
  }
  Ext4Image(const Ext4Image&) = delete;
  Ext4Image& operator=(const Ext4Image&) = delete;
  bool ok() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  // mount -o loop uses autoclear; detach explicitly whatever still holds the image.
  void Detach() {
    auto r = os::RunTool({"/usr/sbin/losetup", "-j", image_});
    if (!r.ok()) return;
    size_t pos = 0;
    while (pos < r->out.size()) {
      size_t end = r->out.find('\n', pos);
      if (end == std::string::npos) end = r->out.size();
      std::string line = r->out.substr(pos, end - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos && line.rfind("/dev/loop", 0) == 0) {
        auto d = os::RunTool({"/usr/sbin/losetup", "-d", line.substr(0, colon)});
        (void)d;
      }
      pos = end + 1;
    }
  }

  std::string image_, mount_point_;
  bool mounted_ = false;
  std::string error_;
};

inline void WriteFile(const std::string& path, const std::string& data, mode_t mode = 0644) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  ASSERT_GE(fd, 0) << path << ": " << std::strerror(errno);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    ASSERT_GT(w, 0) << path;
    done += static_cast<size_t>(w);
  }
  ::close(fd);
}

// Writes each {path relative to `dir`, content} (mode 0644).
inline void WriteFiles(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& files) {
  for (const auto& [rel, data] : files) WriteFile(dir + "/" + rel, data);
}

inline std::string ReadFile(const std::string& path) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "<cannot open " + path + ">";
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

// Raw xattr value ("" with errno set if absent).
inline std::string GetXattr(const std::string& path, const char* name) {
  std::string v(65536, '\0');
  ssize_t n = ::lgetxattr(path.c_str(), name, v.data(), v.size());
  if (n < 0) return "";
  v.resize(static_cast<size_t>(n));
  return v;
}

inline void SetXattr(const std::string& path, const char* name, const std::string& value) {
  ASSERT_EQ(::lsetxattr(path.c_str(), name, value.data(), value.size(), 0), 0)
      << "setxattr " << name << " on " << path << ": " << std::strerror(errno);
}

inline void Run(const std::vector<std::string>& argv) {
  auto r = os::RunTool(argv);
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::string cmd;
  for (const auto& a : argv) cmd += a + " ";
  ASSERT_EQ(r->exit_code, 0) << cmd << ": " << r->err;
}

inline void SetTimes(const std::string& path, time_t sec, long nsec) {
  struct timespec ts[2] = {{sec - 1000, 5}, {sec, nsec}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << path << ": " << std::strerror(errno);
}

inline void SetFlags(const std::string& path, unsigned add) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(fd, 0) << path;
  unsigned flags = 0;
  ASSERT_EQ(::ioctl(fd, FS_IOC_GETFLAGS, &flags), 0) << path << ": " << std::strerror(errno);
  flags |= add;
  ASSERT_EQ(::ioctl(fd, FS_IOC_SETFLAGS, &flags), 0) << path << ": " << std::strerror(errno);
  ::close(fd);
}

inline unsigned GetFlags(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return 0;
  unsigned flags = 0;
  ::ioctl(fd, FS_IOC_GETFLAGS, &flags);
  ::close(fd);
  return flags;
}

// A file with data at [0, 4 KiB) and [1 MiB, 1 MiB + 5), a hole between and a
// trailing hole up to `size`.
inline void MakeSparse(const std::string& path, off_t size) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  ASSERT_GE(fd, 0) << path;
  std::string head(4096, 'h');
  ASSERT_EQ(::pwrite(fd, head.data(), head.size(), 0), 4096);
  ASSERT_EQ(::pwrite(fd, "tail!", 5, 1 << 20), 5);
  ASSERT_EQ(::ftruncate(fd, size), 0);
  ::close(fd);
}

// security.capability v2: cap_net_raw (13) and cap_net_bind_service (10), effective.
inline std::string CapabilityValue() {
  std::string v(20, '\0');
  uint32_t words[5] = {0x02000001u, (1u << 13) | (1u << 10), 0, 0, 0};
  for (int i = 0; i < 5; ++i)
    for (int b = 0; b < 4; ++b) v[static_cast<size_t>(i * 4 + b)] = static_cast<char>((words[i] >> (8 * b)) & 0xff);
  return v;
}

// Calls fn(parent_fd, name) for everything below `dirfd`, children before their
// directory (fd-relative: paths of any length).
template <typename Fn>
void ForEachDepthFirst(int dirfd, Fn&& fn) {
  for (const auto& name : DirNames(dirfd)) {
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0) {
        ForEachDepthFirst(fd, fn);
        ::close(fd);
      }
    }
    fn(dirfd, name);
  }
}

// `top`/aaa.../bbb.../leaf with `levels` directories of 240-byte names, created with
// *at() calls (mkdir(2) and open(2) refuse paths beyond PATH_MAX).
inline void MakeDeepPath(const std::string& top, int levels) {
  ASSERT_EQ(::mkdir(top.c_str(), 0755), 0);
  UniqueFd dir(::open(top.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  for (int i = 0; i < levels; ++i) {
    std::string name(240, static_cast<char>('a' + i));
    ASSERT_EQ(::mkdirat(dir.get(), name.c_str(), 0755), 0) << std::strerror(errno);
    dir.reset(::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(dir.valid());
  }
  UniqueFd leaf(::openat(dir.get(), "leaf", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(leaf.valid());
  ASSERT_EQ(::write(leaf.get(), "far away\n", 9), 9);
}

// "ünïcödé-名前" in UTF-8.
inline std::string UnicodeName() {
  return "\xc3\xbc"
         "n"
         "\xc3\xaf"
         "c"
         "\xc3\xb6"
         "d"
         "\xc3\xa9"
         "-"
         "\xe5\x90\x8d"
         "\xe5\x89\x8d";
}

// Every kind of entry a clone must carry, below `root` (an existing directory).
// Needs root (devices, owners, trusted.* and security.* xattrs). Mtimes are set
// last, bottom-up, each with its own nanoseconds.
inline void BuildVariedTree(const std::string& root) {
  auto p = [&](const std::string& rel) { return root + "/" + rel; };
  // Directories with owners and special bits.
  ASSERT_EQ(::mkdir(p("dir").c_str(), 0750), 0);
  ASSERT_EQ(::mkdir(p("dir/sub").c_str(), 0755), 0);
  ASSERT_EQ(::chown(p("dir").c_str(), 1001, 1002), 0);
  ASSERT_EQ(::mkdir(p("sticky").c_str(), 0777), 0);
  ASSERT_EQ(::chmod(p("sticky").c_str(), 01777), 0);
  ASSERT_EQ(::mkdir(p("sgid-dir").c_str(), 0775), 0);
  ASSERT_EQ(::chmod(p("sgid-dir").c_str(), 02775), 0);
  ASSERT_EQ(::mkdir(p("readonly-dir").c_str(), 0755), 0);
  WriteFile(p("readonly-dir/inside"), "in a read-only directory\n");
  ASSERT_EQ(::chmod(p("readonly-dir").c_str(), 0555), 0);
  ASSERT_EQ(::mkdir(p("cache").c_str(), 0700), 0);
  ASSERT_EQ(::chown(p("cache").c_str(), 33, 33), 0);
  WriteFile(p("cache/junk"), "excluded by some tests\n");
  ASSERT_EQ(::mkdir(p("cache/deeper").c_str(), 0755), 0);

  // Regular files.
  WriteFile(p("empty"), "");
  WriteFile(p("text"), "hello, clone\n");
  WriteFile(p("setuid"), "#!/bin/sh\necho setuid\n");
  ASSERT_EQ(::chown(p("setuid").c_str(), 4242, 4343), 0);
  ASSERT_EQ(::chmod(p("setuid").c_str(), 04755), 0);
  WriteFile(p("setgid"), "setgid\n");
  ASSERT_EQ(::chmod(p("setgid").c_str(), 02711), 0);
  WriteFile(p("no-perms"), "mode 000\n");
  ASSERT_EQ(::chmod(p("no-perms").c_str(), 0), 0);
  std::string zeros(64 * 1024, '\0');
  WriteFile(p("allocated-zeros"), zeros);  // allocated: must not become a hole

  // Odd names.
  WriteFile(p("with space"), "space\n");
  WriteFile(p("new\nline"), "newline\n");
  WriteFile(p("-leading-dash"), "dash\n");
  WriteFile(p("--"), "two dashes\n");
  WriteFile(p(UnicodeName()), "utf-8\n");
  WriteFile(p("bad-\xff\xfe-utf8"), "not utf-8\n");
  WriteFile(p("back\\slash"), "backslash\n");
  WriteFile(p("tab\there"), "tab\n");

  // Long paths: a 200-byte name (>100) and a path of more than 4096 bytes.
  WriteFile(p(std::string(200, 'n')), "long name\n");
  ASSERT_NO_FATAL_FAILURE(MakeDeepPath(p("deep"), 12));  // about 2900 bytes

  // Hardlinks (three names, one in another directory) and symlinks.
  WriteFile(p("hl-a"), "linked content\n");
  ASSERT_EQ(::link(p("hl-a").c_str(), p("dir/hl-b").c_str()), 0);
  ASSERT_EQ(::link(p("hl-a").c_str(), p("hl-c").c_str()), 0);
  ASSERT_EQ(::symlink("text", p("link-rel").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", p("link-abs").c_str()), 0);
  ASSERT_EQ(::symlink("does/not/exist", p("link-dangling").c_str()), 0);
  ASSERT_EQ(::symlink("dir", p("link-dir").c_str()), 0);
  ASSERT_EQ(::lchown(p("link-rel").c_str(), 7, 8), 0);

  // Devices, fifo, socket (the socket is not archived).
  ASSERT_EQ(::mknod(p("dev-null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  ASSERT_EQ(::mknod(p("dev-loop").c_str(), S_IFBLK | 0660, makedev(7, 200)), 0);
  ASSERT_EQ(::chown(p("dev-loop").c_str(), 0, 6), 0);
  ASSERT_EQ(::mkfifo(p("fifo").c_str(), 0620), 0);
  {
    int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(s, 0);
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    std::string sp = p("sock");
    if (sp.size() < sizeof addr.sun_path) {
      std::memcpy(addr.sun_path, sp.c_str(), sp.size() + 1);
      ASSERT_EQ(::bind(s, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    }
    ::close(s);
  }

  // Sparse files: holes inside and at the end; a >4 GiB one; a preallocated one
  // (unwritten extents, like a swap file) that must stay fully allocated.
  MakeSparse(p("sparse"), 3 << 20);
  MakeSparse(p("sparse-5g"), (5ll << 30) + 7);
  {
    int fd = ::open(p("prealloc").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::fallocate(fd, 0, 0, 1 << 20), 0) << std::strerror(errno);
    ASSERT_EQ(::pwrite(fd, "SWAPSPACE2", 10, 4086), 10);
    ::close(fd);
  }

  // Xattrs of every namespace, ACLs, capabilities.
  SetXattr(p("text"), "user.note", "plain");
  SetXattr(p("text"), "user.binary", std::string("a\0b\xff", 4));
  SetXattr(p("text"), "trusted.secret", "only root sees this");
  SetXattr(p("text"), "security.ka-test", "security namespace");
  SetXattr(p("dir"), "user.on-dir", "directory xattr");
  SetXattr(p("link-dir"), "trusted.on-symlink", "symlink xattr");
  SetXattr(p("setuid"), "security.capability", CapabilityValue());
  WriteFile(p("cap-only"), "capabilities, owned by 0:0\n", 0755);
  SetXattr(p("cap-only"), "security.capability", CapabilityValue());
  Run({"/usr/bin/setfacl", "-m", "u:1234:rw,u:99:r,g:4343:rx,m:rwx", p("setuid")});
  Run({"/usr/bin/setfacl", "-m", "u:1234:r,g::-", p("text")});  // group entry differs from the mask
  Run({"/usr/bin/setfacl", "-m", "u:2000:rwx", p("dir")});
  Run({"/usr/bin/setfacl", "-d", "-m", "u:2000:rwx,g:3000:rx", p("dir")});
  Run({"/usr/bin/setfacl", "-d", "-m", "g:77:rwx", root});  // default ACL on the root itself
  SetXattr(root, "user.root-xattr", "on the root");

  // File flags: nodump, noatime, append-only, immutable (file and directory).
  SetFlags(p("empty"), FS_NODUMP_FL | FS_NOATIME_FL);
  WriteFile(p("append-only"), "log line\n");
  ASSERT_EQ(::mkdir(p("immutable-dir").c_str(), 0755), 0);
  WriteFile(p("immutable-dir/kept"), "inside an immutable directory\n");
  WriteFile(p("immutable"), "cannot change\n");

  // Times: bottom-up so that no later change moves a directory's mtime.
  long n = 0;
  auto set_time = [&n](int dirfd, const std::string& name) {
    struct timespec ts[2] = {{1400000000 + n, 5}, {1500000000 + n * 1000, 100000000 + n * 7 + 1}};
    EXPECT_EQ(::utimensat(dirfd, name.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << name << ": " << std::strerror(errno);
    ++n;
  };
  {
    UniqueFd rootfd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(rootfd.valid());
    ForEachDepthFirst(rootfd.get(), set_time);
  }
  SetTimes(root, 1600000000, 123456789);
  // Flags that forbid changes come last (they do not touch mtime).
  SetFlags(p("append-only"), FS_APPEND_FL);
  SetFlags(p("immutable"), FS_IMMUTABLE_FL);
  SetFlags(p("immutable-dir"), FS_IMMUTABLE_FL);
  SetFlags(root, FS_IMMUTABLE_FL | FS_NODUMP_FL);  // the root too (it exists on the node already)
}

// WriteTree(src) -> pipe -> ExtractTree(dst) with the writer in another thread.
struct RoundTripResult {
  Result<golden::TreeWriteStats> written = Status::Io("not run");
  Result<node::ExtractStats> extracted = Status::Io("not run");
};

inline RoundTripResult RoundTrip(const std::string& src, const std::string& dst,
                                 const golden::TreeWriteOptions& options = {}) {
  ::signal(SIGPIPE, SIG_IGN);
  RoundTripResult r;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return r;
  UniqueFd rd(fds[0]), wr(fds[1]);
  std::thread writer([&] {
    r.written = golden::WriteTree(src, options, [&](const void* data, size_t n) -> Status {
      const char* q = static_cast<const char*>(data);
      while (n > 0) {
        ssize_t w = ::write(wr.get(), q, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return Status::Closed(ErrnoMessage("pipe", errno));
        q += w;
        n -= static_cast<size_t>(w);
      }
      return Status::Ok();
    });
    wr.reset();
  });
  r.extracted = node::ExtractTree(rd.get(), dst);
  rd.reset();  // a failed extraction must not leave the writer blocked
  writer.join();
  return r;
}

// The whole archive in memory.
inline std::string ArchiveToString(const std::string& src, const golden::TreeWriteOptions& options = {}) {
  std::string out;
  auto r = golden::WriteTree(src, options, [&](const void* d, size_t n) {
    out.append(static_cast<const char*>(d), n);
    return Status::Ok();
  });
  EXPECT_TRUE(r.ok()) << r.status().message();
  return out;
}

// ExtractTree fed from a string through a pipe.
inline Result<node::ExtractStats> ExtractString(const std::string& archive, const std::string& dst) {
  ::signal(SIGPIPE, SIG_IGN);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::Io("pipe");
  UniqueFd rd(fds[0]), wr(fds[1]);
  std::thread feeder([&] {
    size_t done = 0;
    while (done < archive.size()) {
      ssize_t w = ::write(wr.get(), archive.data() + done, archive.size() - done);
      if (w <= 0) break;
      done += static_cast<size_t>(w);
    }
    wr.reset();
  });
  auto r = node::ExtractTree(rd.get(), dst);
  rd.reset();
  feeder.join();
  return r;
}

}  // namespace ka::treetest
