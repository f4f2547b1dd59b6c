// The `ka serve` session (the command layer ties the golden streamer, the chain sender and
// netboot's per-MAC boot switch together): inspect the golden, then run a chain session whose PREPARE
// phase gives every node the clone manifest and whose stream is the clone
// stream; at the end, report bytes on the wire against the golden's used bytes.
#pragma once

#include "control/send_session.h"
#include "golden/inspect.h"
#include "golden/streamer.h"

namespace ka::cli {

struct ServeOptions {
  golden::InspectOptions golden;
  golden::StreamOptions stream;
  control::SendSessionOptions send;  // nodes, session, secret, ports, report, timeouts
  bool dry_run = false;     // inspect and print the plan and manifest only
  // Netbooted nodes (docs/netboot.md): broadcast this stage2 archive first, on
  // session "<session>-stage2", to the nodes' stage1 agents;
  std::string stage2;
  // then switch each node's PXE boot (per-MAC file under this TFTP root): local
  // after a clone, kamethod after a failure.
  std::string pxe_root;
};

// Exit status: 0 every node cloned, 1 some node failed, 2 the session could
// not run (bad options, golden unreadable).
int RunServe(const ServeOptions& options);

// After a node's clone: its next PXE boot is local (ok) or kamethod again; a
// node without a MAC is only logged.
void SwitchNodeBoot(const std::string& pxe_root, const std::string& name, const std::string& mac, bool ok);

}  // namespace ka::cli
