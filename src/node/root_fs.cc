#include "node/root_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <deque>

#include "util/fd.h"

namespace ka::node {
namespace {

constexpr int kMaxSymlinks = 40;  // as the kernel's path walk

std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    std::string c = path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    if (!c.empty() && c != ".") out.push_back(c);
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : "/") + p;
  return s;
}

Result<std::string> ReadFd(int fd, const std::string& what) {
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Io(ErrnoMessage("reading " + what, errno));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

Status WriteAll(int fd, const std::string& data, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Io(ErrnoMessage("writing " + what, errno));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return Status::Io(ErrnoMessage("fsync " + what, errno));
  return Status::Ok();
}

}  // namespace

std::string InImage(const std::string& rel) { return "/" + rel; }

Result<RootFs> RootFs::Open(const std::string& root) {
  char buf[PATH_MAX];
  if (::realpath(root.c_str(), buf) == nullptr) return Status::Invalid(ErrnoMessage("target root " + root, errno));
  struct stat st;
  if (::stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) return Status::Invalid("target root " + root + " is not a directory");
  return RootFs(buf);
}

std::string RootFs::HostPath(const std::string& rel) const {
  if (rel.empty()) return root_;
  return (root_ == "/" ? "" : root_) + "/" + rel;
}

Result<RootFs::Entry> RootFs::Resolve(const std::string& path, bool follow_last) const {
  std::deque<std::string> todo;
  for (auto& c : Components(path)) todo.push_back(std::move(c));
  std::vector<std::string> done;
  int links = 0;
  Entry e;
  e.parent_exists = true;
  while (!todo.empty()) {
    std::string comp = std::move(todo.front());
    todo.pop_front();
    if (comp == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    done.push_back(comp);
    const bool last = todo.empty();
    std::string host = HostPath(Join(done));
    struct stat st;
    if (::lstat(host.c_str(), &st) != 0) {
      if (errno != ENOENT) return Status::Io(ErrnoMessage(InImage(Join(done)) + " in " + root_, errno));
      // Missing: what follows is named lexically (".." undoes a missing component).
      e.parent_exists = last;
      for (auto& rest : todo) {
        if (rest == "..") {
          if (!done.empty()) done.pop_back();
        } else {
          done.push_back(rest);
        }
      }
      e.rel = Join(done);
      e.host = HostPath(e.rel);
      e.exists = false;
      return e;
    }
    if (S_ISLNK(st.st_mode) && (!last || follow_last)) {
      if (++links > kMaxSymlinks) {
        return Status::Invalid("resolving " + path + " in " + root_ + ": too many levels of symbolic links");
      }
      char buf[PATH_MAX];
      ssize_t n = ::readlink(host.c_str(), buf, sizeof buf - 1);
      if (n < 0) return Status::Io(ErrnoMessage("readlink " + host, errno));
      std::string target(buf, static_cast<size_t>(n));
      done.pop_back();
      if (!target.empty() && target[0] == '/') done.clear();
      auto parts = Components(target);
      todo.insert(todo.begin(), parts.begin(), parts.end());
      e.symlink_followed = true;
      continue;
    }
    if (!last && !S_ISDIR(st.st_mode)) {
      return Status::Invalid(InImage(Join(done)) + " in " + root_ + " is not a directory (resolving " + path + ")");
    }
  }
  e.rel = Join(done);
  e.host = HostPath(e.rel);
  if (::lstat(e.host.c_str(), &e.st) != 0) return Status::Io(ErrnoMessage(e.host, errno));
  e.exists = true;
  return e;
}

bool RootFs::IsFile(const std::string& path) const {
  auto e = Resolve(path);
  return e.ok() && e->is_file();
}

bool RootFs::IsDir(const std::string& path) const {
  auto e = Resolve(path);
  return e.ok() && e->is_dir();
}

bool RootFs::Exists(const std::string& path) const {
  auto e = Resolve(path);
  return e.ok() && e->exists;
}

Result<std::optional<std::string>> RootFs::Read(const std::string& path) const {
  auto e = Resolve(path);
  if (!e.ok()) return e.status();
  if (!e->exists) return std::optional<std::string>();
  if (!e->is_file()) return Status::Invalid(InImage(e->rel) + " in " + root_ + " is not a regular file");
  UniqueFd fd(::open(e->host.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return Status::Io(ErrnoMessage("open " + e->host, errno));
  auto data = ReadFd(fd.get(), e->host);
  if (!data.ok()) return data.status();
  return std::optional<std::string>(std::move(data.value()));
}

Result<bool> RootFs::Write(const std::string& path, const std::string& content, mode_t mode) const {
  auto e = Resolve(path);
  if (!e.ok()) return e.status();
  if (e->exists) {
    if (!e->is_file()) return Status::Invalid(InImage(e->rel) + " in " + root_ + " is not a regular file");
    UniqueFd fd(::open(e->host.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return Status::Io(ErrnoMessage("open " + e->host, errno));
    auto old = ReadFd(fd.get(), e->host);
    if (!old.ok()) return old.status();
    if (*old == content) return false;
    if (::ftruncate(fd.get(), 0) != 0) return Status::Io(ErrnoMessage("truncate " + e->host, errno));
    if (::lseek(fd.get(), 0, SEEK_SET) != 0) return Status::Io(ErrnoMessage("seek " + e->host, errno));
    KA_RETURN_IF_ERROR(WriteAll(fd.get(), content, e->host));
    return true;
  }
  if (!e->parent_exists) {
    return Status::Io("cannot create " + InImage(e->rel) + " in " + root_ + ": its directory does not exist" +
                      (e->symlink_followed ? " (reached through a symlink from " + path + ")" : ""));
  }
  UniqueFd fd(::open(e->host.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777));
  if (!fd.valid()) return Status::Io(ErrnoMessage("create " + e->host, errno));
  if (::fchmod(fd.get(), mode & 07777) != 0) return Status::Io(ErrnoMessage("chmod " + e->host, errno));
  KA_RETURN_IF_ERROR(WriteAll(fd.get(), content, e->host));
  return true;
}

Result<bool> RootFs::Chmod(const std::string& path, mode_t mode) const {
  auto e = Resolve(path);
  if (!e.ok()) return e.status();
  if (!e->exists) return Status::Io("chmod " + InImage(e->rel) + " in " + root_ + ": no such file");
  if ((e->st.st_mode & 07777) == (mode & 07777)) return false;
  if (::chmod(e->host.c_str(), mode & 07777) != 0) return Status::Io(ErrnoMessage("chmod " + e->host, errno));
  return true;
}

Result<bool> RootFs::MakeDirs(const std::string& path, mode_t mode) const {
  bool created = false;
  std::string prefix;
  for (const auto& c : Components(path)) {
    prefix += "/" + c;
    auto e = Resolve(prefix);
    if (!e.ok()) return e.status();
    if (e->exists) {
      if (!e->is_dir()) return Status::Invalid(InImage(e->rel) + " in " + root_ + " is not a directory");
      continue;
    }
    if (!e->parent_exists) return Status::Io("cannot create " + InImage(e->rel) + " in " + root_ + ": no parent");
    if (::mkdir(e->host.c_str(), mode & 07777) != 0) return Status::Io(ErrnoMessage("mkdir " + e->host, errno));
    if (::chmod(e->host.c_str(), mode & 07777) != 0) return Status::Io(ErrnoMessage("chmod " + e->host, errno));
    created = true;
  }
  return created;
}

Result<bool> RootFs::Remove(const std::string& path) const {
  auto e = Resolve(path, /*follow_last=*/false);
  if (!e.ok()) return e.status();
  if (!e->exists) return false;
  if (e->rel.empty()) return Status::Invalid("refusing to remove the target root " + root_);
  if (e->is_dir()) return Status::Invalid(InImage(e->rel) + " in " + root_ + " is a directory");
  if (::unlink(e->host.c_str()) != 0) return Status::Io(ErrnoMessage("remove " + e->host, errno));
  return true;
}

namespace {

Status RemoveHostTree(const std::string& host) {
  struct stat st;
  if (::lstat(host.c_str(), &st) != 0) return errno == ENOENT ? Status::Ok() : Status::Io(ErrnoMessage(host, errno));
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(host.c_str()) != 0) return Status::Io(ErrnoMessage("remove " + host, errno));
    return Status::Ok();
  }
  std::vector<std::string> names;
  {
    DIR* d = ::opendir(host.c_str());
    if (d == nullptr) return Status::Io(ErrnoMessage("opendir " + host, errno));
    while (dirent* de = ::readdir(d)) {
      std::string n = de->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
  }
  for (const auto& n : names) KA_RETURN_IF_ERROR(RemoveHostTree(host + "/" + n));
  if (::rmdir(host.c_str()) != 0) return Status::Io(ErrnoMessage("rmdir " + host, errno));
  return Status::Ok();
}

}  // namespace

Result<bool> RootFs::RemoveTree(const std::string& path) const {
  auto e = Resolve(path, /*follow_last=*/false);
  if (!e.ok()) return e.status();
  if (!e->exists) return false;
  if (e->rel.empty()) return Status::Invalid("refusing to remove the target root " + root_);
  KA_RETURN_IF_ERROR(RemoveHostTree(e->host));
  return true;
}

Result<std::vector<std::string>> RootFs::List(const std::string& dir) const {
  auto e = Resolve(dir);
  if (!e.ok()) return e.status();
  std::vector<std::string> names;
  if (!e->exists) return names;
  if (!e->is_dir()) return Status::Invalid(InImage(e->rel) + " in " + root_ + " is not a directory");
  DIR* d = ::opendir(e->host.c_str());
  if (d == nullptr) return Status::Io(ErrnoMessage("opendir " + e->host, errno));
  while (dirent* de = ::readdir(d)) {
    std::string n = de->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<std::string> RootFs::ReadLink(const std::string& path) const {
  auto e = Resolve(path, /*follow_last=*/false);
  if (!e.ok() || !e->is_symlink()) return std::nullopt;
  char buf[PATH_MAX];
  ssize_t n = ::readlink(e->host.c_str(), buf, sizeof buf - 1);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

Result<bool> RootFs::Symlink(const std::string& target, const std::string& path) const {
  auto e = Resolve(path, /*follow_last=*/false);
  if (!e.ok()) return e.status();
  if (e->exists) {
    if (!e->is_symlink()) return Status::Invalid(InImage(e->rel) + " in " + root_ + " exists and is not a symlink");
    if (ReadLink(path) == target) return false;
    if (::unlink(e->host.c_str()) != 0) return Status::Io(ErrnoMessage("remove " + e->host, errno));
  } else if (!e->parent_exists) {
    return Status::Io("cannot create " + InImage(e->rel) + " in " + root_ + ": its directory does not exist");
  }
  if (::symlink(target.c_str(), e->host.c_str()) != 0) return Status::Io(ErrnoMessage("symlink " + e->host, errno));
  return true;
}

}  // namespace ka::node
