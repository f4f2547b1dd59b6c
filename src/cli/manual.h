// ka's man pages (roff, section 1) and bash completion script, generated from the CLI11 tree
// that parses the command line, so that --help, the pages and the completion cannot drift.
// One page per command: ka(1), and ka-SUB(1), ka-SUB-SUBSUB(1) for every subcommand path.
// Hidden options and subcommands (CLI11's empty group) are left out. The output depends only on
// the tree and the arguments (no clock): the same build gives the same bytes.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ka::cli {

struct ManPage {
  std::string file;  // "ka.1", "ka-serve.1", "ka-netboot-build.1"
  std::string text;  // roff (man macros)
};

struct ManualInfo {
  std::string version;  // KA_VERSION: the header's "ka VERSION"
  std::string date;     // the header's date (e.g. from SOURCE_DATE_EPOCH); may be empty
};

// One page per visible command of `app` (its own first), in a depth-first order.
std::vector<ManPage> MakeManPages(const CLI::App& app, const ManualInfo& info);

// A bash script defining _ka and `complete -F _ka NAME` (NAME: the app's name): subcommand
// names at every level, each command's options, file names for values and positionals.
std::string MakeBashCompletion(const CLI::App& app);

// `text` as roff input lines: backslashes doubled, '-' as \-, a leading '.' or '\'' guarded by \&.
std::string RoffEscape(std::string_view text);

}  // namespace ka::cli
