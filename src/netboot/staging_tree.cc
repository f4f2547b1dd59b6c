// Assembling a netboot image tree on the build host (see staging_tree.h).
#include "netboot/staging_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "netboot/lib_closure.h"

namespace ka::netboot {
namespace fs = std::filesystem;

namespace {

std::string Parent(const std::string& p) { return fs::path(p).parent_path().string(); }

Status CreateDirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Io("cannot create directory " + dir + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

Status StagingTree::MakeDirectory(const std::string& image_path, uint32_t mode) {
  KA_RETURN_IF_ERROR(CreateDirs(Host(image_path)));
  if (::chmod(Host(image_path).c_str(), mode) != 0) return Status::Io(ErrnoMessage("chmod " + Host(image_path), errno));
  return Status::Ok();
}

Status StagingTree::MakeSymlink(const std::string& image_path, const std::string& target) {
  KA_RETURN_IF_ERROR(CreateDirs(Parent(Host(image_path))));
  ::unlink(Host(image_path).c_str());
  if (::symlink(target.c_str(), Host(image_path).c_str()) != 0)
    return Status::Io(ErrnoMessage("symlink " + Host(image_path), errno));
  return Status::Ok();
}

Status StagingTree::InstallFileAs(const std::string& host, const std::string& image_path, uint32_t mode) {
  KA_RETURN_IF_ERROR(CreateDirs(Parent(Host(image_path))));
  std::error_code ec;
  fs::copy_file(host, Host(image_path), fs::copy_options::overwrite_existing, ec);
  if (ec) return Status::Io("cannot copy " + host + " to " + Host(image_path) + ": " + ec.message());
  if (::chmod(Host(image_path).c_str(), mode) != 0) return Status::Io(ErrnoMessage("chmod " + Host(image_path), errno));
  sources_[image_path] = host;
  auto dynamic = IsDynamicElf(host);
  if (!dynamic.ok()) return dynamic.status();
  if (*dynamic) dynamic_.insert(host);
  return Status::Ok();
}

Status StagingTree::WriteFile(const std::string& image_path, const std::string& text, uint32_t mode) {
  KA_RETURN_IF_ERROR(CreateDirs(Parent(Host(image_path))));
  const std::string path = Host(image_path);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Io(ErrnoMessage("cannot create " + path, errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::close(fd) == 0 && ok;
  if (!ok) return Status::Io(ErrnoMessage("writing " + path, errno));
  if (::chmod(path.c_str(), mode) != 0) return Status::Io(ErrnoMessage("chmod " + path, errno));
  return Status::Ok();
}

Status StagingTree::InstallHostPath(const std::string& host) {
  const std::string image = UsrPath(fs::path(host).lexically_normal().string());
  if (sources_.count(image) > 0) return Status::Ok();
  struct stat st {};
  if (::lstat(host.c_str(), &st) != 0) return Status::Io(ErrnoMessage("cannot install " + host, errno));
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    fs::path target = fs::read_symlink(host, ec);
    if (ec) return Status::Io("readlink " + host + ": " + ec.message());
    std::string image_target = target.is_absolute() ? UsrPath(target.string()) : target.string();
    KA_RETURN_IF_ERROR(MakeSymlink(image, image_target));
    sources_[image] = host;
    fs::path resolved = target.is_absolute() ? target : fs::path(host).parent_path() / target;
    return InstallHostPath(resolved.lexically_normal().string());
  }
  if (S_ISDIR(st.st_mode)) return InstallHostDirectory(host);
  if (!S_ISREG(st.st_mode)) return Status::Invalid(host + " is not a regular file, directory or symlink");
  return InstallFileAs(host, image, st.st_mode & 07777);
}

Status StagingTree::InstallHostDirectory(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return Status::Io(ErrnoMessage("cannot install directory " + dir, errno));
  KA_RETURN_IF_ERROR(MakeDirectory(UsrPath(dir), st.st_mode & 07777));
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; it != end; it.increment(ec)) {
    if (ec) break;
    KA_RETURN_IF_ERROR(InstallHostPath(it->path().string()));
  }
  if (ec) return Status::Io("reading directory " + dir + ": " + ec.message());
  return Status::Ok();
}

Status StagingTree::InstallLibraries(os::Env& runner) {
  std::vector<std::string> bins(dynamic_.begin(), dynamic_.end());
  auto libs = LibraryClosure(runner, bins);
  if (!libs.ok()) return libs.status();
  for (const auto& lib : *libs) KA_RETURN_IF_ERROR(InstallHostPath(lib));
  return Status::Ok();
}

Status StagingTree::SetAllTimes(int64_t mtime) {
  struct timespec ts[2] = {{static_cast<time_t>(mtime), 0}, {static_cast<time_t>(mtime), 0}};
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root_, ec), end; it != end; it.increment(ec)) {
    if (ec) break;
    if (::utimensat(AT_FDCWD, it->path().c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0)
      return Status::Io(ErrnoMessage("setting the time of " + it->path().string(), errno));
  }
  if (ec) return Status::Io("walking " + root_ + ": " + ec.message());
  if (::utimensat(AT_FDCWD, root_.c_str(), ts, 0) != 0) return Status::Io(ErrnoMessage("utimensat " + root_, errno));
  return Status::Ok();
}

}  // namespace ka::netboot
