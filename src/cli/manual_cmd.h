// `ka manual --man-dir DIR --bash-completion FILE` (hidden): writes the man pages and the bash
// completion script that cli/manual.h generates from the whole command tree; the build runs it
// (the ka_manual target) so that a package installs them. Exit status: 0 written, 1 a write failed.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli/manual.h"
#include "os/env.h"

namespace ka::cli {

class ManualCommand {
 public:
  // Adds the hidden subcommand to `app`; add it after every other command.
  explicit ManualCommand(CLI::App& app);
  bool parsed() const;
  // Walks `app` (the tree as built: call after parsing) and writes the files through `env`.
  int Run(const CLI::App& app, const std::string& version, os::Env& env) const;

 private:
  CLI::App* cmd_ = nullptr;
  std::string man_dir_, completion_file_, date_;
};

}  // namespace ka::cli
