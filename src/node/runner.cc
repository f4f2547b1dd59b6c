#include "node/runner.h"

#include "node/progress_ticker.h"
#include "util/log.h"

namespace ka::node {

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

Result<layout::ToolOutput> RealRunner::Run(const std::vector<std::string>& argv, const std::string& input) {
  const std::string cmd = QuoteArgv(argv);
  LogInfo("run: {}", cmd);
  Result<layout::ToolOutput> r = Status::Io("not run");
  {
    // Long commands (update-initramfs, grub-mkconfig under emulation) say they are alive.
    ProgressTicker ticker(progress_every_, [&cmd](double s) { LogInfo("still running after {:.0f} s: {}", s, cmd); });
    r = layout::RunTool(argv, input);
  }
  if (!r.ok()) {
    LogWarn("could not start {}: {}", argv.empty() ? std::string("(empty argv)") : argv[0], r.status().message());
    return r.status();
  }
  if (r->exit_code != 0) {
    Status s = layout::ToolFailure(argv, *r);
    LogWarn("{}", s.message());
    return s;
  }
  return r;
}

Result<std::string> RealRunner::Find(const std::string& tool, const std::string& debian_package) {
  return layout::FindTool(tool, debian_package);
}

}  // namespace ka::node
