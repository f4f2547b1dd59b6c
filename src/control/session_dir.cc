#include "control/session_dir.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>

#include <fmt/format.h>

namespace ka::control {

Status MakePrivateDir(const std::string& dir, std::string* warning) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return Status::Invalid(fmt::format("{} exists and is not a directory", dir));
    if ((st.st_mode & 077) != 0 && warning) {
      *warning = fmt::format("{} has mode {:04o}: others may read the session's logs in it (chmod 700 {})", dir,
                             st.st_mode & 07777, dir);
    }
    return Status::Ok();
  }
  if (errno != ENOENT) return Status::Io(ErrnoMessage("looking at " + dir, errno));
  std::error_code ec;
  const auto parent = std::filesystem::path(dir).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return Status::Io(fmt::format("creating {}: {}", parent.string(), ec.message()));
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) return MakePrivateDir(dir, warning);  // made meanwhile: judged as an existing one
    return Status::Io(ErrnoMessage("creating " + dir, errno));
  }
  // mkdir's mode went through the umask (which may have taken the owner's bits too).
  if (::chmod(dir.c_str(), 0700) != 0) return Status::Io(ErrnoMessage("setting the mode of " + dir, errno));
  return Status::Ok();
}

Result<UniqueFd> OpenPrivateAppend(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return Status::Io(ErrnoMessage("opening " + path, errno));
  if (::fchmod(fd.get(), 0600) != 0) return Status::Io(ErrnoMessage("setting the mode of " + path, errno));
  return fd;
}

Status PrepareSessionDir(const std::string& dir, std::string* warning) {
  KA_RETURN_IF_ERROR(MakePrivateDir(dir, warning));
  std::string logs_warning;
  KA_RETURN_IF_ERROR(MakePrivateDir(dir + "/logs", &logs_warning));
  if (warning && warning->empty()) *warning = logs_warning;
  auto log = OpenPrivateAppend(ServerLogPath(dir));
  return log.ok() ? Status::Ok() : log.status();
}

std::string ServerLogPath(const std::string& dir) { return dir + "/server.log"; }

}  // namespace ka::control
