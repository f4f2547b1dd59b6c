#include "util/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
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

Result<pid_t> Spawn(const std::vector<std::string>& argv, const SpawnOptions& o) {
  if (argv.empty() || argv[0].empty()) return Status::Invalid("Spawn needs a program to run");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string cannot = "cannot run " + argv[0] + ": ";
  pid_t pid = ::fork();
  if (pid < 0) return Status::Io(ErrnoMessage("starting " + argv[0] + " (fork)", errno));
  if (pid > 0) return pid;
  // The child: only async-signal-safe calls from here on.
  if (o.own_process_group) ::setpgid(0, 0);
  if (o.die_with_parent) ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  ::signal(SIGPIPE, SIG_DFL);
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  sigset_t none;  // signals a parent thread blocks (InterruptCleanup) are not the child's business
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (o.stdin_fd >= 0) ::dup2(o.stdin_fd, STDIN_FILENO);
  if (o.stdout_fd >= 0) ::dup2(o.stdout_fd, STDOUT_FILENO);
  if (o.stderr_fd >= 0) ::dup2(o.stderr_fd, STDERR_FILENO);
  if (o.envp != nullptr) {
    ::execve(args[0], args.data(), o.envp);
  } else {
    ::execv(args[0], args.data());
  }
  const char* reason = strerror(errno);
  ssize_t ignored = ::write(STDERR_FILENO, cannot.data(), cannot.size());
  ignored = ::write(STDERR_FILENO, reason, std::strlen(reason));
  ignored = ::write(STDERR_FILENO, "\n", 1);
  (void)ignored;
  _exit(127);
}

Result<Subprocess> Subprocess::Start(const std::string& command, Pipe direction) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::Io(ErrnoMessage("pipe", errno));
  SpawnOptions so;
  so.own_process_group = true;  // so Kill reaches what the shell starts
  if (direction == Pipe::kToStdin) {
    so.stdin_fd = fds[0];
  } else {
    so.stdout_fd = fds[1];
  }
  auto pid = Spawn({"/bin/sh", "-c", command}, so);
  if (!pid.ok()) {
    ::close(fds[0]);
    ::close(fds[1]);
    return pid.status().Wrap("'" + command + "'");
  }
  Subprocess p;
  p.command_ = command;
  p.pid_ = *pid;
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
