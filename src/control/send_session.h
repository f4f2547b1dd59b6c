// `ka send` and `ka serve` as a whole session: the chain's sender
// (chain/sender.h) with its control plane around it: the session's record and
// directory (server.log, logs/NODE.log, report.json), the status and exec
// service, the dashboard, the live progress and the final report.
#pragma once

#include <functional>
#include <string>

#include "chain/report.h"
#include "chain/sender.h"
#include "control/session_state.h"

namespace ka::control {

struct SendSessionOptions : chain::SendOptions {
  std::string report_path;  // --report: the JSON report, also written here
  std::string session_dir;  // logs/<node>.log and report.json; "" = DefaultSessionDir, "none" = none
  bool allow_exec = false;  // relay `ka exec` commands (nodes still require the operator's signature)
  std::string web;             // dashboard on ADDR:PORT (docs/dashboard.md); empty: none
  std::string web_token_file;  // its token (first line); made and written there when missing
  double web_linger = 0;       // seconds the dashboard stays up after the report, showing the final state
  // called with the report before it is printed and written (to add extras).
  std::function<void(chain::SessionReport&)> finish_report;
  // called once the session state exists; its return value is called at the end of the session.
  std::function<std::function<void()>(const SessionState&)> attach;
};

// Runs a whole session; returns the process exit status (0 all nodes OK,
// 1 some node failed, 2 the session could not run).
int RunSendSession(const SendSessionOptions& options);

}  // namespace ka::control
