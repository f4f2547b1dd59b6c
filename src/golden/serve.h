// `ka serve`: inspect the golden, then run a chain session whose PREPARE
// phase gives every node the clone manifest and whose stream is the clone
// stream; at the end, report bytes on the wire against the golden's used bytes.
#pragma once

#include "chain/sender.h"
#include "golden/inspect.h"
#include "golden/streamer.h"

namespace ka::golden {

struct ServeOptions {
  InspectOptions golden;
  StreamOptions stream;
  chain::SendOptions send;  // nodes, session, secret, ports, report, timeouts
  bool dry_run = false;     // inspect and print the plan and manifest only
};

// Exit status: 0 every node cloned, 1 some node failed, 2 the session could
// not run (bad options, golden unreadable).
int RunServe(const ServeOptions& options);

}  // namespace ka::golden
