#include "cli/netboot_stage1_cmd.h"

#include <cstdio>

namespace ka::cli {

NetbootStage1Command::NetbootStage1Command(CLI::App& netboot) {
  cmd_ = netboot.add_subcommand("stage1", "(not yet built)");
}

bool NetbootStage1Command::parsed() const { return cmd_->parsed(); }

int NetbootStage1Command::Run(bool) {
  std::fprintf(stderr, "ka netboot stage1: not yet built\n");
  return 2;
}

}  // namespace ka::cli
