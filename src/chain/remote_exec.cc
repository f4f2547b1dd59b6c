#include "chain/remote_exec.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "util/process.h"

namespace ka::chain {

ExecOutcome RunRemoteCommand(const std::string& command, double timeout_s, size_t max_output) {
  ExecOutcome r;
  auto p = Subprocess::Start("exec 2>&1 </dev/null; " + command, Subprocess::Pipe::kFromStdout);
  if (!p.ok()) {
    r.output = p.status().ToString();
    return r;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  bool cut = false;
  char buf[8192];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      p->Kill(SIGKILL);
      break;
    }
    pollfd pfd{p->pipe(), POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (n <= 0) continue;
    ssize_t k = ::read(p->pipe(), buf, sizeof buf);
    if (k <= 0) break;
    size_t room = max_output > r.output.size() ? max_output - r.output.size() : 0;
    r.output.append(buf, std::min<size_t>(room, static_cast<size_t>(k)));
    if (static_cast<size_t>(k) > room) cut = true;
  }
  p->ClosePipe();
  Status s = p->Wait();
  if (s.ok()) {
    r.exit_code = 0;
  } else {
    // "exited with status N" / "killed by signal N": keep a number.
    const std::string& m = s.message();
    auto pos = m.find_last_of("0123456789");
    size_t start = pos;
    while (start > 0 && std::isdigit(static_cast<unsigned char>(m[start - 1]))) --start;
    int v = pos == std::string::npos ? 1 : std::stoi(m.substr(start, pos - start + 1));
    r.exit_code = m.find("signal") != std::string::npos ? 128 + v : v;
  }
  if (cut) r.output += "\n[... output cut at " + std::to_string(max_output) + " bytes]";
  if (r.timed_out) r.output += "\n[killed after " + std::to_string(static_cast<int>(timeout_s)) + " s]";
  return r;
}

}  // namespace ka::chain
