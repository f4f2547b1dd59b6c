// `ka netboot build` (see docs/netboot.md).
#pragma once

#include <CLI/CLI.hpp>

namespace ka::cli {

class NetbootBuildCommand {
 public:
  // Adds the subcommand to `netboot`.
  explicit NetbootBuildCommand(CLI::App& netboot);
  bool parsed() const;
  int Run(bool verbose);

 private:
  CLI::App* cmd_ = nullptr;
};

}  // namespace ka::cli
