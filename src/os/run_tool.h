// Runs a system tool (sfdisk, wipefs, losetup, ...) by absolute path with an argv
// (no shell), feeding it text and collecting its exit status, stdout and stderr.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace ka::os {

struct ToolOutput {
  int exit_code = 0;  // exit status, or 128 + signal number when killed
  std::string out;    // stdout
  std::string err;    // stderr
};

// argv[0] is an absolute path. The tool runs with LC_ALL=C (stable messages) and
// its stdin fed from `input` (then closed). Fails only if it could not be started.
Result<ToolOutput> RunTool(const std::vector<std::string>& argv, const std::string& input = {});

// "sfdisk --no-act /dev/loop0 exited with status 1: <stderr, trimmed>".
Status ToolFailure(const std::vector<std::string>& argv, const ToolOutput& r);

// Absolute path of a tool found in /usr/sbin, /sbin, /usr/bin or /bin; the error
// names the Debian package that provides it.
Result<std::string> FindTool(const std::string& name, const std::string& debian_package);

// argv as a shell would need it typed: words with spaces or quotes are single-quoted.
std::string QuoteArgv(const std::vector<std::string>& argv);

}  // namespace ka::os
