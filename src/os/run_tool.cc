#include "os/run_tool.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/fd.h"
#include "util/process.h"

extern char** environ;

namespace ka::os {
namespace {

std::string Joined(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

}  // namespace

Result<ToolOutput> RunTool(const std::vector<std::string>& argv, const std::string& input) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') return Status::Invalid("RunTool needs an absolute path");
  // Everything the child needs is built before fork.
  std::vector<std::string> env_store;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string v = *e;
    if (v.rfind("LC_", 0) == 0 || v.rfind("LANG=", 0) == 0 || v.rfind("LANGUAGE=", 0) == 0) continue;
    env_store.push_back(v);
  }
  env_store.push_back("LC_ALL=C");
  std::vector<char*> envp;
  for (auto& v : env_store) envp.push_back(v.data());
  envp.push_back(nullptr);

  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return Status::Io(ErrnoMessage("pipe", errno));
  UniqueFd in_r(in[0]), in_w(in[1]);
  if (::pipe2(out, O_CLOEXEC) != 0) return Status::Io(ErrnoMessage("pipe", errno));
  UniqueFd out_r(out[0]), out_w(out[1]);
  if (::pipe2(err, O_CLOEXEC) != 0) return Status::Io(ErrnoMessage("pipe", errno));
  UniqueFd err_r(err[0]), err_w(err[1]);

  SpawnOptions so;
  so.stdin_fd = in_r.get();
  so.stdout_fd = out_w.get();
  so.stderr_fd = err_w.get();
  so.envp = envp.data();
  auto spawned = Spawn(argv, so);
  if (!spawned.ok()) return spawned.status();
  pid_t pid = *spawned;
  in_r.reset();
  out_w.reset();
  err_w.reset();
  ::fcntl(in_w.get(), F_SETFL, O_NONBLOCK);
  if (input.empty()) in_w.reset();

  // A tool that exits without reading all its input must not kill us with SIGPIPE:
  // block it in this thread while feeding, and drop one that became pending.
  sigset_t pipe_set, old_set, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);

  ToolOutput r;
  size_t fed = 0;
  char buf[65536];
  while (out_r.valid() || err_r.valid() || in_w.valid()) {
    pollfd fds[3];
    int n = 0;
    int io = -1, oo = -1, eo = -1;
    if (in_w.valid()) {
      io = n;
      fds[n++] = {in_w.get(), POLLOUT, 0};
    }
    if (out_r.valid()) {
      oo = n;
      fds[n++] = {out_r.get(), POLLIN, 0};
    }
    if (err_r.valid()) {
      eo = n;
      fds[n++] = {err_r.get(), POLLIN, 0};
    }
    if (::poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (io >= 0 && fds[io].revents) {
      ssize_t w = ::write(in_w.get(), input.data() + fed, input.size() - fed);
      if (w > 0) fed += static_cast<size_t>(w);
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || fed == input.size()) in_w.reset();
    }
    auto drain = [&](int idx, UniqueFd& fd, std::string& dst) {
      if (idx < 0 || !fds[idx].revents) return;
      ssize_t k = ::read(fd.get(), buf, sizeof buf);
      if (k > 0) {
        dst.append(buf, static_cast<size_t>(k));
      } else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
        fd.reset();
      }
    };
    drain(oo, out_r, r.out);
    drain(eo, err_r, r.err);
  }
  in_w.reset();
  sigpending(&pending);
  if (!was_pending && sigismember(&pending, SIGPIPE) == 1) {
    timespec zero{0, 0};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);

  int ws = 0;
  while (::waitpid(pid, &ws, 0) < 0) {
    if (errno != EINTR) return Status::Io(ErrnoMessage("waitpid for " + argv[0], errno));
  }
  r.exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
  return r;
}

Status ToolFailure(const std::vector<std::string>& argv, const ToolOutput& r) {
  // The last few non-empty lines of stderr carry the reason.
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos <= r.err.size()) {
    size_t nl = r.err.find('\n', pos);
    std::string line = r.err.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (line.find_first_not_of(" \t") != std::string::npos) lines.push_back(line);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  std::string err;
  for (size_t i = lines.size() > 4 ? lines.size() - 4 : 0; i < lines.size(); ++i)
    err += (err.empty() ? "" : "; ") + lines[i];
  std::string what = r.exit_code > 128 ? "was killed by signal " + std::to_string(r.exit_code - 128)
                                       : "exited with status " + std::to_string(r.exit_code);
  return Status::Io(Joined(argv) + " " + what + (err.empty() ? "" : ": " + err));
}

Result<std::string> FindTool(const std::string& name, const std::string& debian_package) {
  for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"}) {
    std::string p = dir + name;
    struct stat st;
    if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0) return p;
  }
  return Status::Io(name + " not found in /usr/sbin, /sbin, /usr/bin or /bin: install the Debian package " +
                    debian_package + " (scripts/setup.sh does)");
}

std::string QuoteArgv(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                   "0123456789-_./=:,+@%") == std::string::npos;
    if (plain) {
      s += a;
      continue;
    }
    s += '\'';
    for (char c : a) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
    s += '\'';
  }
  return s;
}

}  // namespace ka::os
