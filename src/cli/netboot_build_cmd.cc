#include "cli/netboot_build_cmd.h"

#include <cstdio>

namespace ka::cli {

NetbootBuildCommand::NetbootBuildCommand(CLI::App& netboot) {
  cmd_ = netboot.add_subcommand("build", "(not yet built)");
}

bool NetbootBuildCommand::parsed() const { return cmd_->parsed(); }

int NetbootBuildCommand::Run(bool) {
  std::fprintf(stderr, "ka netboot build: not yet built\n");
  return 2;
}

}  // namespace ka::cli
