// `ka netboot build|serve|stage1`: the network boot path (docs/netboot.md).
//   build   stage1 (Debian kernel + busybox/ka initramfs) and stage2 (node tools)
//   serve   dnsmasq DHCP/proxy-DHCP + TFTP + pxelinux/iPXE configuration
//   stage1  the node agent run by the stage1 initramfs (tries, countdown, action)
// Each subcommand lives in its own file; this one only groups them.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>

namespace ka::cli {

class NetbootBuildCommand;
class NetbootServeCommand;
class NetbootStage1Command;

class NetbootCommands {
 public:
  explicit NetbootCommands(CLI::App& app);
  ~NetbootCommands();
  bool parsed() const;
  int Run(bool verbose);

 private:
  CLI::App* netboot_ = nullptr;
  std::unique_ptr<NetbootBuildCommand> build_;
  std::unique_ptr<NetbootServeCommand> serve_;
  std::unique_ptr<NetbootStage1Command> stage1_;
};

}  // namespace ka::cli
