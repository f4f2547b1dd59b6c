// `ka status [NODE]` and `ka exec NODE -- CMD`: the operator's view of a
// running session and remote commands, through the server's authenticated
// status service.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "control/status_client.h"

namespace ka::cli {

class ControlCommands {
 public:
  explicit ControlCommands(CLI::App& app);
  bool parsed() const;
  int Run(bool verbose);

 private:
  int RunStatus();
  int RunExec();

  CLI::App* status_ = nullptr;
  CLI::App* exec_ = nullptr;
  control::ClientOptions co_;
  std::string node_;
  bool follow_ = false;
  bool json_ = false;
  std::vector<std::string> command_;
  std::string operator_key_;  // the operator's secret key file: signs each command
};

}  // namespace ka::cli
