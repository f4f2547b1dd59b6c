#include "node/fake_runner.h"

#include <algorithm>

namespace ka::node {

void FakeRunner::Script(std::vector<std::string> prefix, layout::ToolOutput output) {
  answers_.push_back({std::move(prefix), true, std::move(output), {}});
}

void FakeRunner::ScriptStartFailure(std::vector<std::string> prefix, Status status) {
  answers_.push_back({std::move(prefix), false, {}, std::move(status)});
}

std::vector<std::vector<std::string>> FakeRunner::argvs() const {
  std::vector<std::vector<std::string>> v;
  for (const auto& c : calls) v.push_back(c.argv);
  return v;
}

Result<layout::ToolOutput> FakeRunner::Run(const std::vector<std::string>& argv, const std::string& input) {
  calls.push_back({argv, input});
  const Answer* best = nullptr;
  for (const auto& a : answers_) {
    if (a.prefix.size() > argv.size() || !std::equal(a.prefix.begin(), a.prefix.end(), argv.begin())) continue;
    if (best == nullptr || a.prefix.size() >= best->prefix.size()) best = &a;
  }
  if (best == nullptr) return layout::ToolOutput{};
  if (!best->starts) return best->start_failure;
  if (best->output.exit_code != 0) return layout::ToolFailure(argv, best->output);
  return best->output;
}

Result<std::string> FakeRunner::Find(const std::string& tool, const std::string& debian_package) {
  if (missing_tools.count(tool) != 0) {
    return Status::Io(tool + " not found in /usr/sbin, /sbin, /usr/bin or /bin: install the Debian package " +
                      debian_package + " (scripts/setup.sh does)");
  }
  auto it = tool_paths.find(tool);
  return it != tool_paths.end() ? it->second : "/usr/sbin/" + tool;
}

}  // namespace ka::node
