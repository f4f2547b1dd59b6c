#include "chain/source.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "util/fd.h"
#include "util/process.h"

namespace ka::chain {

namespace {

Result<size_t> ReadFully(int fd, void* buf, size_t n, const std::string& what) {
  auto* p = static_cast<char*>(buf);
  size_t got = 0;
  while (got < n) {
    ssize_t k = ::read(fd, p + got, n - got);
    if (k == 0) break;
    if (k < 0) {
      if (errno == EINTR) continue;
      return Status::Io(ErrnoMessage("reading " + what, errno));
    }
    got += static_cast<size_t>(k);
  }
  return got;
}

class FdSource : public Source {
 public:
  FdSource(UniqueFd fd, std::string what, std::optional<uint64_t> size, bool rereadable)
      : fd_(std::move(fd)), what_(std::move(what)), size_(size), rereadable_(rereadable) {}
  Result<size_t> Read(void* buf, size_t n) override { return ReadFully(fd_.get(), buf, n, what_); }
  Status Finish() override { return Status::Ok(); }
  std::optional<uint64_t> size() const override { return size_; }
  bool rereadable() const override { return rereadable_; }
  Status Seek(uint64_t offset) override {
    if (!rereadable_) return Source::Seek(offset);
    if (::lseek(fd_.get(), static_cast<off_t>(offset), SEEK_SET) < 0)
      return Status::Io(ErrnoMessage("seeking in " + what_, errno));
    return Status::Ok();
  }
  std::string Describe() const override { return what_; }

 private:
  UniqueFd fd_;
  std::string what_;
  std::optional<uint64_t> size_;
  bool rereadable_;
};

class ExecSource : public Source {
 public:
  explicit ExecSource(Subprocess p) : proc_(std::move(p)) {}
  Result<size_t> Read(void* buf, size_t n) override {
    return ReadFully(proc_.pipe(), buf, n, "the output of '" + proc_.command() + "'");
  }
  Status Finish() override { return proc_.Wait(); }
  std::string Describe() const override { return "command '" + proc_.command() + "'"; }

 private:
  Subprocess proc_;
};

}  // namespace

Result<std::unique_ptr<Source>> OpenPathSource(const std::string& path) {
  if (path == "-") {
    int fd = ::dup(STDIN_FILENO);
    return std::unique_ptr<Source>(new FdSource(UniqueFd(fd), "stdin", std::nullopt, false));
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Io(ErrnoMessage("opening source " + path, errno));
  UniqueFd owned(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::Io(ErrnoMessage("stat " + path, errno));
  std::optional<uint64_t> size;
  bool rereadable = false;
  if (S_ISREG(st.st_mode)) {
    size = static_cast<uint64_t>(st.st_size);
    rereadable = true;
  } else if (S_ISBLK(st.st_mode)) {
    uint64_t bytes = 0;
    if (::ioctl(fd, BLKGETSIZE64, &bytes) == 0) size = bytes;
    rereadable = true;
  } else if (S_ISDIR(st.st_mode)) {
    return Status::Invalid("source " + path + " is a directory (stream a file, a device, '-' or --exec)");
  }
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<Source>(new FdSource(std::move(owned), path, size, rereadable));
}

Result<std::unique_ptr<Source>> OpenExecSource(const std::string& command) {
  auto p = Subprocess::Start(command, Subprocess::Pipe::kFromStdout);
  if (!p.ok()) return p.status();
  return std::unique_ptr<Source>(new ExecSource(std::move(p).value()));
}

}  // namespace ka::chain
