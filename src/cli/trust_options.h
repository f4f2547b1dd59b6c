// The trust options shared by the commands that send (`ka send`, `ka serve`)
// and those that receive (`ka receive`, `ka join`), defined once so that their
// names and help cannot drift apart. docs/security.md explains each key.
#pragma once

#include <CLI/CLI.hpp>

#include "chain/receiver.h"
#include "chain/sender.h"
#include "control/send_session.h"

namespace ka::cli {

// --secret-file, --sign-key, --cipher, --digest, --allow-exec
void AddSenderTrustOptions(CLI::App* cmd, control::SendSessionOptions& o);
// --secret-file, --trust, --allow-remote-commands, --join-timeout
void AddReceiverTrustOptions(CLI::App* cmd, chain::ReceiveOptions& o);

}  // namespace ka::cli
