// The session options shared by the commands that send (`ka send`, `ka serve`) and those that
// receive (`ka receive`, `ka join`), defined once so that their names, defaults and help cannot
// drift apart (like cli/trust_options.h, which these include).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "chain/receiver.h"
#include "control/send_session.h"

namespace ka::cli {

// How a command names its side of the session in the help.
struct SessionWords {
  std::string peers;       // who is on the other side: "receivers" / "nodes"; "sender" / "server"
  std::string port_flags;  // "-p,--port", or "--port" where -p means something else
};

// -s/--session, the trust options, the port, --discovery-port, --bind, --start-after,
// --join-timeout, --node-timeout, --report, --progress-interval, --session-dir, --web,
// --web-token-file.
void AddSenderSessionOptions(CLI::App* cmd, control::SendSessionOptions& o, const SessionWords& words);
// -s/--session, --server, the trust options, the port, --discovery-port, --data-port, --wait,
// --broadcast, --name, --sender-timeout.
void AddReceiverSessionOptions(CLI::App* cmd, chain::ReceiveOptions& o, const SessionWords& words);

}  // namespace ka::cli
