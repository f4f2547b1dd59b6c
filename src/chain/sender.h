// The sending side of a broadcast (`ka send`): waits for N receivers, orders
// them into a chain, streams the source through it and collects every node's
// verdict. See docs/protocol.md.
#pragma once

#include <cstdint>
#include <string>

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
  std::string digest = "full"; // whole-stream digest mode: full | frames
  double progress_interval = 2;
  double join_timeout = 0;     // 0: wait forever for receivers
  double node_timeout = 4;     // a node silent this long is dropped (frozen)
};

// Runs a whole session; returns the process exit status (0 all nodes OK,
// 1 some node failed, 2 the session could not run).
int RunSend(const SendOptions& options);

}  // namespace ka::chain
