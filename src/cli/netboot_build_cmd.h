// `ka netboot build` (see docs/netboot-build.md): the CLI of netboot/netboot_build.h.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace ka::cli {

class NetbootBuildCommand {
 public:
  // Adds the subcommand to `netboot`.
  explicit NetbootBuildCommand(CLI::App& netboot);
  bool parsed() const;
  int Run(bool verbose);

 private:
  CLI::App* cmd_ = nullptr;
  std::string output_;
  std::string cache_ = "/var/cache/ka/netboot";
  std::string kernel_deb_;
  std::string ka_;
  std::vector<std::string> extra_modules_;
  bool force_ = false;
  bool secure_boot_ = false;
};

}  // namespace ka::cli
