// The disk layout subcommands: `ka describe DISK` (desc of a disk) and `ka partition
// --layout DESC DISK` (write a desc onto a disk), registered on the main CLI11 app.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace ka::cli {

class LayoutCommands {
 public:
  // Adds the subcommands to `app`.
  explicit LayoutCommands(CLI::App& app);
  // True if one of them was given on the command line.
  bool parsed() const;
  // Runs it; the exit status: 0 ok, 2 bad input (desc, layout does not fit, usage), 1 failure.
  int Run(bool verbose);

 private:
  int RunDescribe();
  int RunPartition();
  int RunRelease();

  CLI::App* describe_ = nullptr;
  CLI::App* partition_ = nullptr;
  std::string disk_;
  bool json_ = false;
  bool fill_last_ = false;
  bool no_fs_ = false;
  bool new_ids_ = false;
  std::string desc_path_;
  std::string expose_ = "auto";
  bool dry_run_ = false;
  bool yes_ = false;
  bool release_ = false;
};

}  // namespace ka::cli
