#include "cli/netboot_serve_cmd.h"

#include <cstdio>

namespace ka::cli {

NetbootServeCommand::NetbootServeCommand(CLI::App& netboot) {
  cmd_ = netboot.add_subcommand("serve", "(not yet built)");
}

bool NetbootServeCommand::parsed() const { return cmd_->parsed(); }

int NetbootServeCommand::Run(bool) {
  std::fprintf(stderr, "ka netboot serve: not yet built\n");
  return 2;
}

}  // namespace ka::cli
