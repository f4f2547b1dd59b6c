// The receiving side of a broadcast (`ka receive`): finds the sender, joins
// the session, takes its place in the chain, relays to the next node before
// writing locally, verifies the stream and reports its verdict.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chain/node_reporter.h"
#include "chain/output.h"
#include "util/fd.h"
#include "util/net.h"
#include "util/status.h"

namespace ka::chain {

struct ReceiveOptions {
  std::string session = "ka";
  std::string server;         // host[:port]; empty: discover by broadcast
  std::string secret_file;
  std::string trust;          // public key (file or text): accept only a stream signed by it
  uint16_t port = 30765;      // sender TCP port with --server
  uint16_t discovery_port = 30764;
  uint16_t data_port = 0;     // where our child connects; 0 = any
  int wait = 60;              // discovery tries, one second apart (each join attempt)
  double join_timeout = 120;  // keep retrying a refused, reset or timed-out join this long (seconds)
  std::vector<std::string> broadcast;  // discovery targets; empty: every interface
  std::string name;           // default: hostname
  std::string mac;            // reported to the server (per-MAC boot switch); default: the MAC of the
                              // interface the control connection leaves from
  uint64_t buffer = 128ull << 20;
  std::string output;         // path, device or "-"
  std::string exec;           // or a command fed on stdin
  bool splice = true;
  double sender_timeout = 15;  // give up when the sender is silent this long
  uint32_t link_mbps = 0;      // our link's speed told to the sender (0: as the kernel reports it)

  // Used by `ka join` (cloning):
  // the output, made in-process instead of output/exec;
  std::function<Result<std::unique_ptr<Output>>()> make_output;
  // runs (on its own thread, heartbeats go on) when the sender sends PREPARE;
  // its result is answered with READY: a detail line, or the error (and the
  // receiver then leaves the session with status 1);
  std::function<Result<std::string>(const nlohmann::json& prepare, const std::string& local_address)> prepare;
  // called with the sender's BYE (e.g. its "release_after").
  std::function<void(const nlohmann::json& bye)> on_bye;

  // State machine and log lines sent to the server (made if null; every log
  // line of the process is forwarded).
  std::shared_ptr<NodeReporter> reporter;
  // Operator public key (file or text): run the remote commands (`ka exec`)
  // that it signed; empty: remote commands are refused.
  std::string operator_key;

  // Seams for tests (socketpairs instead of TCP). `listen` false: no data
  // port is opened (data_port is announced as it is; the child comes through
  // Receiver::Accept); `connect` replaces ConnectTcp to the sender and the parent.
  bool listen = true;
  std::function<Result<UniqueFd>(const Endpoint& to, Deadline deadline)> connect;
};

class ReceiverImpl;

// One node's part of a session. RunReceive below is the whole of `ka receive`.
class Receiver {
 public:
  explicit Receiver(const ReceiveOptions& options);  // a reporter is made if options has none
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  // Joins, relays, verifies and writes; returns as RunReceive does.
  int Run();
  // Hands the receiver a connection as if its data port had accepted it (tests
  // give it one end of a socketpair). Thread-safe; the handshake runs on its own thread.
  void Accept(UniqueFd fd, const Endpoint& peer);

 private:
  std::unique_ptr<ReceiverImpl> impl_;
};

// Returns the process exit status: 0 when the stream was received, verified
// and written; non-zero otherwise. Every log line of the process goes to the
// sender meanwhile.
int RunReceive(const ReceiveOptions& options);

}  // namespace ka::chain
