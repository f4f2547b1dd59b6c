// `ka netboot stage1` (see docs/netboot.md).
#pragma once

#include <CLI/CLI.hpp>

namespace ka::cli {

class NetbootStage1Command {
 public:
  // Adds the subcommand to `netboot`.
  explicit NetbootStage1Command(CLI::App& netboot);
  bool parsed() const;
  int Run(bool verbose);

 private:
  CLI::App* cmd_ = nullptr;
};

}  // namespace ka::cli
