// The sending side of a broadcast, as transport only: waits for N receivers,
// orders them into a chain, streams the source through it, relinks the chain
// around lost nodes and collects every node's verdict (docs/protocol.md). What
// happens is told to a SessionObserver; the session's record, its dashboard,
// `ka status`/`ka exec` and the report live above, in control/.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "chain/channel.h"
#include "chain/messages.h"
#include "chain/report.h"
#include "chain/session_observer.h"
#include "chain/source.h"
#include "util/fd.h"
#include "util/net.h"
#include "util/status.h"

namespace ka::chain {

struct SendOptions {
  int nodes = 0;
  std::string session = "ka";
  std::string secret_file;
  uint16_t port = 30765;
  uint16_t discovery_port = 30764;
  std::string bind;            // listen address, default all
  bool listen = true;          // false: no TCP listener nor discovery; connections come through Sender::Accept (tests)
  double start_after = -1;     // seconds; < 0: wait for all N
  uint64_t buffer = 128ull << 20;
  uint32_t chunk = 256 * 1024;
  std::string source_path;     // file, device or "-"
  std::string exec;            // or a command whose stdout is streamed
  std::string digest = "tags";  // tags (AEAD tags only) | sha256 (also the payload's SHA-256 in END)
  std::string cipher = "auto";  // auto | aes-256-gcm | chacha20-poly1305: the data frames' AEAD
  std::string sign_key;         // Ed25519 secret key file (ka key new): sign the manifest and the stream
  double progress_interval = 2;  // seconds between "waiting for ..." lines
  double join_timeout = 0;     // 0: wait forever for receivers
  double node_timeout = 4;     // a node silent this long is dropped (frozen)
  // Heartbeats a second the sender takes (and sends) over all its nodes' control connections:
  // each node beats every max(0.25, nodes / control_rate) s. Frozen members are found by their
  // upstream neighbours' link beats, whatever this is (docs/protocol.md §6).
  double control_rate = 400;
  // The least silence on a data link after which a member counts as frozen (its upstream
  // neighbour's verdict; 4 x its longest recent gap when that is more, --node-timeout at most).
  double freeze_detect = 1.5;
  int chains = 0;              // chains fed at once (0: chain/topology.h decides)
  int max_chain = 0;           // most nodes in one chain (0: as the planner says)
  double uplink_bps = 0;       // our link towards the nodes (0: as our interface reports)
  double link_bps = 0;         // the nodes' links (0: the least they report)

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
};

// Serves a connection that authenticated with role "status" (`ka status`,
// `ka exec`) until the client leaves or `stop` turns true. Runs on its own thread.
using StatusHandler =
    std::function<void(std::unique_ptr<SecureChannel> channel, const Endpoint& peer, const std::atomic<bool>& stop)>;

class SenderImpl;

class Sender {
 public:
  // `observer` (may be null) outlives the Sender.
  Sender(const SendOptions& options, SessionObserver* observer);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Before Run: who serves status connections (none: they are refused).
  void SetStatusHandler(StatusHandler handler);

  // Runs the whole session: the report once every node has its verdict and was
  // released, or why the session could not run (already logged).
  Result<SessionReport> Run();

  // Hands the sender a connection as if its listener had accepted it (tests
  // give it one end of a socketpair). Thread-safe; the handshake runs on its own thread.
  void Accept(UniqueFd fd, const Endpoint& peer);

  // Sends a remote command to the connected node `node` and waits up to
  // `timeout` seconds for its EXEC_RESULT. `sent` is called (without the
  // sender's lock) once the node is found, before the command goes out.
  Result<ExecResult> RelayExec(const std::string& node, Exec command, double timeout,
                               const std::function<void()>& sent);

  uint64_t session_id() const;

 private:
  std::unique_ptr<SenderImpl> impl_;
};

}  // namespace ka::chain
