// Helper subcommands for file-level clones, for operators and tests:
//   ka tree-archive DIR [--exclude REL]... [-o FILE|-]   the zstd pax archive of a tree
//   ka tree-extract DIR [-i FILE|-]                      unpack one into DIR
//   ka tree-manifest DIR [--exclude-contents REL]... [--no-hash]   the tree's manifest
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace ka::cli {

class TreeCommands {
 public:
  // Adds the subcommands to `app`.
  explicit TreeCommands(CLI::App& app);
  // True if one of them was given on the command line.
  bool parsed() const;
  // Runs it; the exit status: 0 ok, 2 bad input (usage, root, refused archive), 1 failure.
  int Run(bool verbose);

 private:
  int RunArchive();
  int RunExtract();
  int RunManifest();

  CLI::App* archive_ = nullptr;
  CLI::App* extract_ = nullptr;
  CLI::App* manifest_ = nullptr;
  std::string dir_;
  std::vector<std::string> exclude_;
  std::string output_ = "-";
  std::string input_ = "-";
  int level_ = 3;
  int threads_ = 0;
  bool cross_filesystems_ = false;
  bool no_hash_ = false;
};

}  // namespace ka::cli
