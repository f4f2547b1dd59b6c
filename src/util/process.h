// Child processes. Spawn is the one place ka forks and execs (os::RunTool, the
// --exec subprocesses, netboot's dnsmasq and stage1's commands all start theirs
// with it); Subprocess: a shell command for --exec whose stdin we feed (receiver)
// or whose stdout we read (sender).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>
#include <utility>

#include "util/fd.h"
#include "util/status.h"

namespace ka {

struct SpawnOptions {
  // Descriptors the child gets as stdin, stdout and stderr; -1: the parent's.
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  bool own_process_group = false;  // setpgid(0, 0): a signal to the group reaches what it starts
  bool die_with_parent = false;    // PR_SET_PDEATHSIG SIGTERM
  char* const* envp = nullptr;     // the child's environment; nullptr: the parent's
};

// Starts argv (argv[0] a path, no shell, no PATH search) and returns its pid, to be
// waited for by the caller. The child has default SIGPIPE, SIGINT and SIGTERM and
// no blocked signals; if the exec fails it writes "cannot run ARGV0: REASON" to its
// stderr and exits 127. Everything is prepared before fork (threads may run).
Result<pid_t> Spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});

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
