// Runner: the one seam through which the node steps run system tools (mkfs, chroot,
// modprobe, ...). RealRunner finds tools by absolute path and runs them; FakeRunner
// (fake_runner.h) records argvs and answers from a script, for unit tests.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "layout/run_tool.h"
#include "util/status.h"

namespace ka::node {

class Runner {
 public:
  virtual ~Runner() = default;
  // Runs argv (argv[0] an absolute path, no shell) with `input` on its stdin. The
  // output of a tool that exited 0; otherwise a Status naming the command, its exit
  // status and the end of its stderr (layout::ToolFailure).
  virtual Result<layout::ToolOutput> Run(const std::vector<std::string>& argv, const std::string& input = {}) = 0;
  // Absolute path of a tool of the running system; the error names the Debian
  // package that provides it.
  virtual Result<std::string> Find(const std::string& tool, const std::string& debian_package) = 0;
  bool Exists(const std::string& tool) { return Find(tool, "?").ok(); }
};

// The real system: layout::FindTool and layout::RunTool. Every command is logged
// (info) before it runs, failures (warn) with their stderr; one that runs longer
// than `progress_every` is logged again every `progress_every` ("still running
// after 30 s: CMD"), so a node is never silent for long.
class RealRunner : public Runner {
 public:
  explicit RealRunner(std::chrono::milliseconds progress_every = std::chrono::seconds(10))
      : progress_every_(progress_every) {}
  Result<layout::ToolOutput> Run(const std::vector<std::string>& argv, const std::string& input = {}) override;
  Result<std::string> Find(const std::string& tool, const std::string& debian_package) override;

 private:
  std::chrono::milliseconds progress_every_;
};

// argv as a shell would need it typed: words with spaces or quotes are single-quoted.
std::string QuoteArgv(const std::vector<std::string>& argv);

}  // namespace ka::node
