// `ka netboot serve` (see docs/netboot.md).
#pragma once

#include <CLI/CLI.hpp>

namespace ka::cli {

class NetbootServeCommand {
 public:
  // Adds the subcommand to `netboot`.
  explicit NetbootServeCommand(CLI::App& netboot);
  bool parsed() const;
  int Run(bool verbose);

 private:
  CLI::App* cmd_ = nullptr;
};

}  // namespace ka::cli
