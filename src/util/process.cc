#include "util/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ka {

std::string DescribeWaitStatus(int wstatus) {
  if (WIFEXITED(wstatus)) return "exited with status " + std::to_string(WEXITSTATUS(wstatus));
  if (WIFSIGNALED(wstatus))
    return "killed by signal " + std::to_string(WTERMSIG(wstatus)) + " (" + strsignal(WTERMSIG(wstatus)) + ")";
  return "ended abnormally (wait status " + std::to_string(wstatus) + ")";
}

Result<Subprocess> Subprocess::Start(const std::string& command, Pipe direction) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::Io(ErrnoMessage("pipe", errno));
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return Status::Io(ErrnoMessage("fork for '" + command + "'", e));
  }
  if (pid == 0) {
    // Child: its own process group (so Kill reaches what the shell starts), the
    // pipe end on stdin or stdout, default SIGPIPE.
    ::setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;  // signals a parent thread blocks (InterruptCleanup) are not the tool's business
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (direction == Pipe::kToStdin) {
      ::dup2(fds[0], STDIN_FILENO);
    } else {
      ::dup2(fds[1], STDOUT_FILENO);
    }
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  Subprocess p;
  p.command_ = command;
  p.pid_ = pid;
  if (direction == Pipe::kToStdin) {
    ::close(fds[0]);
    p.pipe_.reset(fds[1]);
  } else {
    ::close(fds[1]);
    p.pipe_.reset(fds[0]);
  }
  return p;
}

Status Subprocess::Wait() {
  if (pid_ < 0 || waited_) return Status::Ok();
  pipe_.reset();
  int ws = 0;
  while (::waitpid(pid_, &ws, 0) < 0) {
    if (errno != EINTR) return Status::Io(ErrnoMessage("waitpid", errno));
  }
  waited_ = true;
  if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) return Status::Ok();
  return Status::Io("command '" + command_ + "' " + DescribeWaitStatus(ws));
}

void Subprocess::Kill(int sig) {
  if (pid_ > 0 && !waited_) {
    if (::kill(-pid_, sig) != 0) ::kill(pid_, sig);
  }
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !waited_) {
    pipe_.reset();
    Kill(SIGTERM);
    int ws;
    ::waitpid(pid_, &ws, 0);
  }
}

}  // namespace ka
