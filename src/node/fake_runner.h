// FakeRunner: a Runner for unit tests. Records every command; answers from results
// scripted by argv prefix (the longest matching prefix wins; unscripted commands
// succeed with empty output); "finds" every tool in /usr/sbin unless told otherwise.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "node/runner.h"

namespace ka::node {

class FakeRunner : public Runner {
 public:
  struct Call {
    std::vector<std::string> argv;
    std::string input;
  };

  // Commands starting with `prefix` answer `output`: exit status 0 succeeds, any
  // other fails as a real tool would (ToolFailure with its stderr).
  void Script(std::vector<std::string> prefix, layout::ToolOutput output);
  // Commands starting with `prefix` cannot be started at all.
  void ScriptStartFailure(std::vector<std::string> prefix, Status status);

  std::set<std::string> missing_tools;             // Find fails for these
  std::map<std::string, std::string> tool_paths;   // Find answers these (default /usr/sbin/NAME)
  std::vector<Call> calls;                         // every Run, in order

  // The recorded argvs alone.
  std::vector<std::vector<std::string>> argvs() const;

  Result<layout::ToolOutput> Run(const std::vector<std::string>& argv, const std::string& input = {}) override;
  Result<std::string> Find(const std::string& tool, const std::string& debian_package) override;

 private:
  struct Answer {
    std::vector<std::string> prefix;
    bool starts = true;
    layout::ToolOutput output;
    Status start_failure;
  };
  std::vector<Answer> answers_;
};

}  // namespace ka::node
