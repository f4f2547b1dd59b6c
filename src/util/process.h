// Child processes for --exec: a shell command whose stdin we feed (receiver)
// or whose stdout we read (sender).
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>

#include "util/fd.h"
#include "util/status.h"

namespace ka {

class Subprocess {
 public:
  enum class Pipe { kToStdin, kFromStdout };
  // Starts `/bin/sh -c command`; pipe() is our end of its stdin or stdout.
  static Result<Subprocess> Start(const std::string& command, Pipe direction);

  // Moving transfers the child: the moved-from object no longer owns (or reaps) it.
  Subprocess(Subprocess&& o) noexcept
      : command_(std::move(o.command_)), pid_(std::exchange(o.pid_, -1)), pipe_(std::move(o.pipe_)),
        waited_(o.waited_) {}
  Subprocess& operator=(Subprocess&&) = delete;
  ~Subprocess();

  int pipe() const { return pipe_.get(); }
  void ClosePipe() { pipe_.reset(); }
  // Waits for the exit; Ok if it exited 0, else a Status naming the command and
  // its exit code or signal.
  Status Wait();
  pid_t pid() const { return pid_; }
  // Signals the command and everything it started (it runs in its own process group).
  void Kill(int signal);
  const std::string& command() const { return command_; }

 private:
  Subprocess() = default;
  std::string command_;
  pid_t pid_ = -1;
  UniqueFd pipe_;
  bool waited_ = false;
};

// "exited with status 3" / "killed by signal 9 (Killed)".
std::string DescribeWaitStatus(int wstatus);

}  // namespace ka
