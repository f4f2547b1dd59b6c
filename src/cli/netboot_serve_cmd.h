// `ka netboot serve` (see docs/netboot.md): DHCP/TFTP for network boot through
// dnsmasq, and the per-machine boot switch (--set-boot MAC=local|kamethod|rescue).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "netboot/netboot_serve.h"

namespace ka::cli {

class NetbootServeCommand {
 public:
  // Adds the subcommand to `netboot`.
  explicit NetbootServeCommand(CLI::App& netboot);
  bool parsed() const;
  int Run(bool verbose);

 private:
  int RunBootSwitch();

  CLI::App* cmd_ = nullptr;
  CLI::Option* proxy_opt_ = nullptr;
  std::string dir_;
  std::string default_choice_ = "kamethod";
  std::vector<std::string> hosts_;
  std::vector<std::string> set_boot_;
  std::vector<std::string> clear_boot_;
  std::vector<std::string> show_boot_;
  netboot::ServeOptions o_;
};

}  // namespace ka::cli
