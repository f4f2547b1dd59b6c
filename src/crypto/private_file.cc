#include "crypto/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "util/fd.h"

namespace ka::crypto {

Status WriteNewFile(const std::string& path, std::string_view content, unsigned mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd.valid()) {
    if (errno == EEXIST) {
      return Status::Invalid(fmt::format("{} already exists: ka never overwrites it (move it away, or choose "
                                         "another name)", path));
    }
    return Status::Io(ErrnoMessage("creating " + path, errno));
  }
  auto fail = [&](const std::string& what) {
    int err = errno;
    fd.reset();
    ::unlink(path.c_str());
    return Status::Io(ErrnoMessage(what + " " + path, err));
  };
  // O_CREAT's mode went through the umask: set exactly what was asked.
  if (::fchmod(fd.get(), mode) != 0) return fail("setting the mode of");
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("writing");
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail("writing");
  if (::close(fd.release()) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    return Status::Io(ErrnoMessage("writing " + path, err));
  }
  return Status::Ok();
}

Result<PrivateFile> ReadPrivateFile(const std::string& path, size_t max_bytes, const std::string& what) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return Status::Invalid(ErrnoMessage(fmt::format("cannot read {} {}", what, path), errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Status::Io(ErrnoMessage(fmt::format("{} {}: fstat", what, path), errno));
  if (!S_ISREG(st.st_mode)) return Status::Invalid(fmt::format("{} {} is not a regular file", what, path));
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return Status::Invalid(fmt::format("{} {} is {} bytes: too large for a {} (at most {})", what, path, st.st_size,
                                       what, max_bytes));
  }
  PrivateFile f;
  f.mode = static_cast<unsigned>(st.st_mode) & 07777;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Io(ErrnoMessage(fmt::format("reading {} {}", what, path), errno));
    if (n == 0) break;
    f.content.append(buf, static_cast<size_t>(n));
    if (f.content.size() > max_bytes) {
      return Status::Invalid(fmt::format("{} {} is too large for a {} (at most {} bytes)", what, path, what, max_bytes));
    }
  }
  return f;
}

std::string ModeString(unsigned mode) { return fmt::format("{:04o}", mode & 07777); }

}  // namespace ka::crypto
