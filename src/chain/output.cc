#include "chain/output.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "util/fd.h"
#include "util/process.h"

namespace ka::chain {

namespace {

Status WriteAll(int fd, const void* data, size_t n, const std::string& what) {
  auto* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t k = ::write(fd, p, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      return Status::Io(ErrnoMessage("writing to " + what, errno));
    }
    p += k;
    n -= static_cast<size_t>(k);
  }
  return Status::Ok();
}

class FdOutput : public Output {
 public:
  FdOutput(UniqueFd fd, std::string what, std::string final_path, std::string temp_path)
      : fd_(std::move(fd)), what_(std::move(what)), final_(std::move(final_path)), temp_(std::move(temp_path)) {}
  Status Write(const void* data, size_t n) override {
    written_ += n;
    return WriteAll(fd_.get(), data, n, what_);
  }
  Status Close(bool complete) override {
    Status st;
    if (complete && fd_.valid() && ::fsync(fd_.get()) != 0 && errno != EINVAL && errno != EROFS)
      st = Status::Io(ErrnoMessage("syncing " + what_, errno));
    if (fd_.valid() && fd_.get() > 2 && ::close(fd_.release()) != 0 && st.ok())
      st = Status::Io(ErrnoMessage("closing " + what_, errno));
    fd_.release();
    if (!temp_.empty() && !complete && written_ == 0) ::unlink(temp_.c_str());  // nothing arrived: no litter
    return st;
  }
  Status Commit() override {
    if (temp_.empty()) return Status::Ok();
    if (::rename(temp_.c_str(), final_.c_str()) != 0)
      return Status::Io(ErrnoMessage("renaming " + temp_ + " to " + final_, errno));
    return Status::Ok();
  }
  std::string Describe() const override { return what_; }

 private:
  UniqueFd fd_;
  std::string what_, final_, temp_;
  uint64_t written_ = 0;
};

class ExecOutput : public Output {
 public:
  explicit ExecOutput(Subprocess p) : proc_(std::move(p)) {}
  Status Write(const void* data, size_t n) override {
    Status s = WriteAll(proc_.pipe(), data, n, "command '" + proc_.command() + "'");
    if (!s.ok()) {
      // Prefer the command's exit status to EPIPE as the explanation.
      Status w = proc_.Wait();
      return w.ok() ? Status::Io("command '" + proc_.command() + "' stopped reading its input") : w;
    }
    return s;
  }
  Status Close(bool complete) override {
    if (!complete) proc_.Kill(SIGTERM);
    proc_.ClosePipe();
    return proc_.Wait();
  }
  std::string Describe() const override { return "command '" + proc_.command() + "'"; }

 private:
  Subprocess proc_;
};

}  // namespace

std::string IncompleteName(const std::string& path) { return path + ".ka-incomplete"; }

Result<std::unique_ptr<Output>> OpenPathOutput(const std::string& path) {
  if (path == "-") return std::unique_ptr<Output>(new FdOutput(UniqueFd(STDOUT_FILENO), "stdout", "", ""));
  struct stat st {};
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode)) {
    // Device, fifo...: written in place.
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return Status::Io(ErrnoMessage("opening " + path, errno));
    return std::unique_ptr<Output>(new FdOutput(UniqueFd(fd), path, "", ""));
  }
  std::string temp = IncompleteName(path);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Io(ErrnoMessage("creating " + temp, errno) + " (check the directory exists and is writable)");
  return std::unique_ptr<Output>(new FdOutput(UniqueFd(fd), path, path, temp));
}

Result<std::unique_ptr<Output>> OpenExecOutput(const std::string& command) {
  auto p = Subprocess::Start(command, Subprocess::Pipe::kToStdin);
  if (!p.ok()) return p.status();
  return std::unique_ptr<Output>(new ExecOutput(std::move(p).value()));
}

}  // namespace ka::chain
