// Hidden test command of the web dashboard: `ka dashboard-demo --web ADDR:PORT [--token-file F]
// [--seconds N]` serves a synthetic session (three nodes moving through the clone states, one of
// them failing, throughput samples growing, log lines every 0.2 s) through the real WebServer for
// N seconds. Used by tests/system/dashboard.sh and to look at the page without a real session.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace ka::cli {

class DashboardCommands {
 public:
  // Adds the subcommand to `app` (hidden from --help).
  explicit DashboardCommands(CLI::App& app);
  // True if it was given on the command line.
  bool parsed() const;
  // Runs it; the exit status: 0 ok, 2 bad input (--web, token file), 1 failure (bind).
  int Run(bool verbose);

 private:
  CLI::App* demo_ = nullptr;
  std::string web_;
  std::string token_file_;
  double seconds_ = 60;
};

}  // namespace ka::cli
