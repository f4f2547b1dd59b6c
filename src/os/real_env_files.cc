// RealEnv: the host's files, programs on the console, and power.
#include <dirent.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "os/real_env.h"
#include "util/file.h"
#include "util/process.h"

namespace ka::os {

int RealEnv::RunAttached(const std::vector<std::string>& argv) {
  std::fflush(stdout);
  std::fflush(stderr);
  auto spawned = Spawn(argv);  // stdin, stdout and stderr are ours
  if (!spawned.ok()) {
    std::fprintf(stderr, "ka: %s\n", spawned.status().message().c_str());
    return -1;
  }
  int status = 0;
  while (::waitpid(*spawned, &status, 0) < 0)
    if (errno != EINTR) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

Status RealEnv::PowerAction(const std::string& action) {
  if (action != "reboot" && action != "poweroff") return Status::Invalid("unknown power action '" + action + "'");
  ::sync();
  if (::reboot(action == "reboot" ? RB_AUTOBOOT : RB_POWER_OFF) != 0)
    return Status::Io(ErrnoMessage("reboot(2) for " + action, errno));
  return Status::Ok();
}

Result<std::string> RealEnv::ReadFile(const std::string& path) { return ReadWholeFile(path); }

Status RealEnv::WriteFile(const std::string& path, const std::string& content, unsigned mode) {
  return WriteFileAtomic(path, content, mode);
}

bool RealEnv::FileExists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

bool RealEnv::IsDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status RealEnv::RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Status::Io(ErrnoMessage("removing " + path, errno));
  return Status::Ok();
}

Result<std::vector<std::string>> RealEnv::ListDir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return Status::Io(ErrnoMessage("listing " + path, errno));
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

Status RealEnv::MakeDirs(const std::string& path, unsigned mode) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    const std::string dir = path.substr(0, i);
    if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) return Status::Io(ErrnoMessage("creating " + dir, errno));
  }
  if (!IsDirectory(path)) return Status::Io("creating " + path + ": it exists and is not a directory");
  return Status::Ok();
}

Result<std::string> RealEnv::MakeTempDir(const std::string& prefix) {
  std::string templ = prefix + ".XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) return Status::Io(ErrnoMessage("creating a directory " + templ, errno));
  return templ;
}

Status RealEnv::RemoveDir(const std::string& path) {
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return Status::Io(ErrnoMessage("removing " + path, errno));
  return Status::Ok();
}

Result<std::string> RealEnv::ResolvePath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return Status::Io(ErrnoMessage("resolving " + path, errno));
  return std::string(buf);
}

Result<std::string> RealEnv::ReadLink(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n < 0) return Status::Io(ErrnoMessage("reading the link " + path, errno));
  if (static_cast<size_t>(n) == sizeof buf) return Status::Io("reading the link " + path + ": target too long");
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace ka::os
