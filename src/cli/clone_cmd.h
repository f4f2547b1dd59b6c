// The cloning subcommands: `ka serve` on the golden (or any machine that has
// the golden's disk or image) and `ka join` on every node.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "golden/serve.h"
#include "node/join.h"

namespace ka::cli {

class CloneCommands {
 public:
  explicit CloneCommands(CLI::App& app);
  bool parsed() const;
  int Run(bool verbose);

 private:
  CLI::App* serve_ = nullptr;
  CLI::App* join_ = nullptr;
  golden::ServeOptions so_;
  node::JoinOptions jo_;
  std::string buffer_ = "128MiB";
  std::string join_buffer_ = "128MiB";
};

}  // namespace ka::cli
