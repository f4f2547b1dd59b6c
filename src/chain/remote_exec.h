// Running a remote command on a node (`ka exec`, only in sessions whose
// server allows it): /bin/sh -c with stdout and stderr captured together, a
// time limit, and the output cut to a maximum size.
#pragma once

#include <string>

namespace ka::chain {

struct ExecOutcome {
  int exit_code = -1;    // exit status; 128 + signal when killed; -1 when it could not start
  std::string output;    // stdout and stderr, at most max_output bytes (then "[... cut]")
  bool timed_out = false;
};

ExecOutcome RunRemoteCommand(const std::string& command, double timeout_s, size_t max_output);

}  // namespace ka::chain
