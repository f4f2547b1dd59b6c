#include "cli/netboot_cmd.h"

#include "cli/netboot_build_cmd.h"
#include "cli/netboot_serve_cmd.h"
#include "cli/netboot_stage1_cmd.h"

namespace ka::cli {

NetbootCommands::NetbootCommands(CLI::App& app) {
  netboot_ = app.add_subcommand("netboot", "Network boot: build stage1/stage2, serve DHCP/TFTP/PXE, the node agent");
  netboot_->require_subcommand(1);
  build_ = std::make_unique<NetbootBuildCommand>(*netboot_);
  serve_ = std::make_unique<NetbootServeCommand>(*netboot_);
  stage1_ = std::make_unique<NetbootStage1Command>(*netboot_);
}

NetbootCommands::~NetbootCommands() = default;

bool NetbootCommands::parsed() const { return netboot_->parsed(); }

int NetbootCommands::Run(bool verbose) {
  if (build_->parsed()) return build_->Run(verbose);
  if (serve_->parsed()) return serve_->Run(verbose);
  if (stage1_->parsed()) return stage1_->Run(verbose);
  return 2;
}

}  // namespace ka::cli
