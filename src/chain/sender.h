// The sending side of a broadcast (`ka send`): waits for N receivers, orders
// them into a chain, streams the source through it and collects every node's
// verdict. See docs/protocol.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "chain/report.h"
#include "chain/source.h"
#include "control/session_state.h"
#include "util/status.h"

namespace ka::chain {

struct SendOptions {
  int nodes = 0;
  std::string session = "ka";
  std::string secret_file;
  uint16_t port = 30765;
  uint16_t discovery_port = 30764;
  std::string bind;            // listen address, default all
  double start_after = -1;     // seconds; < 0: wait for all N
  std::string report_path;
  uint64_t buffer = 128ull << 20;
  uint32_t chunk = 256 * 1024;
  std::string source_path;     // file, device or "-"
  std::string exec;            // or a command whose stdout is streamed
  std::string digest = "tags";  // tags (AEAD tags only) | sha256 (also the payload's SHA-256 in END)
  std::string cipher = "auto";  // auto | aes-256-gcm | chacha20-poly1305: the data frames' AEAD
  std::string sign_key;         // Ed25519 secret key file (ka key new): sign the manifest and the stream
  double progress_interval = 2;
  double join_timeout = 0;     // 0: wait forever for receivers
  double node_timeout = 4;     // a node silent this long is dropped (frozen)

  // Used by `ka serve` (cloning):
  // the source, opened in-process instead of source_path/exec;
  std::function<Result<std::unique_ptr<Source>>()> open_source;
  // when not null, a PREPARE phase runs after the nodes joined and before the
  // stream: each node gets this object plus its "index" (chain position) and
  // answers READY; nodes that cannot prepare are failed and left out of the chain;
  nlohmann::json prepare;
  double prepare_timeout = 1800;  // seconds for every node to be READY
  double stagger = 0;             // node k is released (BYE "release_after") k-1 times this later
  // called for every node at the end of the session, before the nodes are
  // released: its name, the MAC it reported ("" if none) and whether it succeeded.
  std::function<void(const std::string& name, const std::string& mac, bool ok)> on_node_final;
  // called with the report before it is printed and written (to add extras).
  std::function<void(SessionReport&)> finish_report;

  // Control plane (docs/control.md):
  std::string session_dir;  // logs/<node>.log and report.json; "" = DefaultSessionDir, "none" = none
  bool allow_exec = false;  // relay `ka exec` commands (nodes still require the operator's signature)
  std::string web;             // dashboard on ADDR:PORT (docs/dashboard.md); empty: none
  std::string web_token_file;  // its token (first line); made and written there when missing
  // called once the session state exists (dashboard, progress display); its
  // return value is called at the end of the session.
  std::function<std::function<void()>(const control::SessionState&)> attach;
};

// Runs a whole session; returns the process exit status (0 all nodes OK,
// 1 some node failed, 2 the session could not run).
int RunSend(const SendOptions& options);

}  // namespace ka::chain
