// The cloning subcommands: `ka serve` on the golden (or any machine that has
// the golden's disk or image) and `ka join` on every node.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "util/status.h"

#include "cli/serve_session.h"
#include "node/join.h"

namespace ka::cli {

class CloneCommands {
 public:
  explicit CloneCommands(CLI::App& app);
  bool parsed() const;
  int Run(bool verbose);

  // The command line (without the program name) with `ka serve --config FILE`
  // replaced by the file's options, for every option not given on the command
  // line itself (flags override the file). The file is the seed's
  // replication.conf in INI form: "option = value" per line, with the long
  // option names, lists as ["a", "b"], flags as true/false, # comments.
  // Errors name the file, the line and what is wrong.
  Result<std::vector<std::string>> ExpandConfig(int argc, char** argv) const;

 private:
  CLI::App* serve_ = nullptr;
  CLI::App* join_ = nullptr;
  ServeOptions so_;
  node::JoinOptions jo_;
  std::string config_;
  std::string buffer_ = "128MiB";
  std::string zstd_level_ = "auto";
  std::string zstd_threads_ = "auto";
  std::string join_buffer_ = "128MiB";
};

}  // namespace ka::cli
