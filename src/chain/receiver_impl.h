// The machinery behind chain::Receiver, shared by its source files (one
// responsibility each): receiver.cc (the run loop on the control channel and
// the end), receiver_join.cc (keys, finding and joining the sender, the data
// pipeline), receiver_link.cc (the chain: linking to the parent, accepting
// the child, relinks) and receiver_reports.cc (what goes back to the sender:
// progress, state and logs, DONE, READY, results of remote commands, and
// PREPARE and EXEC handling). Internal to chain/.
#pragma once

#include <sys/eventfd.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "chain/auth.h"
#include "chain/consumer.h"
#include "chain/handshake.h"
#include "chain/handshake_pool.h"
#include "chain/link_watcher.h"
#include "chain/messages.h"
#include "chain/receiver.h"
#include "chain/relay.h"
#include "chain/ring.h"
#include "crypto/key_file.h"
#include "util/log_limiter.h"

namespace ka::chain {

struct Peer {
  uint64_t id = 0;
  std::string name;
  std::string host;
  uint16_t port = 0;
};

class ReceiverImpl {
 public:
  explicit ReceiverImpl(const ReceiveOptions& o);
  int Run();
  void Accept(UniqueFd fd, const Endpoint& peer);

 private:
  // receiver_join.cc
  Status LoadKeys();
  Status Join();
  Result<ClientResult> JoinOnce(const std::string& name);
  Status Welcome(const Json& welcome, const std::string& name);
  void StartPipeline();
  Result<UniqueFd> Connect(const Endpoint& to, Deadline deadline);
  // receiver_link.cc
  Status HandleChain(const Json& body);
  void LinkLoop();
  Status Link(const Peer& parent, bool branch);
  void AcceptChild(UniqueFd fd, Endpoint peer, HandshakePool::Slot& slot);
  Status CheckChild(const Hello& hello);
  // receiver_reports.cc
  void SendProgress();
  void SendLinkBeat();
  void WatchChild();
  void KeepWindow();
  void SendDone(const ConsumeResult& r);
  void SendFailure(const std::string& error, bool unlinked, double timeout);
  std::optional<int> SendReady();
  void SendReports();
  Status StartPrepare(const Json& body);
  void StartExec(const Json& body);
  // receiver.cc
  std::optional<int> Report();
  std::optional<int> HandleMessage(const Message& m);
  int ControlFailed(const Status& s);
  int OnBye(const Json& body);
  int Finish(const Status& session_status, bool commit);
  void Wake();
  bool WaitControlOrWake(int timeout_ms);

  ReceiveOptions opt_;
  Secret secret_;
  std::unique_ptr<crypto::PublicKey> trusted_;   // --trust
  std::unique_ptr<crypto::PublicKey> operator_;  // --allow-remote-commands
  Endpoint sender_;
  UniqueFd listener_;
  std::unique_ptr<SecureChannel> control_;
  uint64_t session_id_ = 0;
  uint64_t node_id_ = 0;
  std::string name_;
  uint32_t chunk_ = 0;
  DataKey data_key_;
  bool digest_ = false;
  double control_beat_ = kDefaultControlBeat;  // PROGRESS to the sender this often (its WELCOME)
  double node_timeout_ = kDefaultNodeTimeout;  // the sender's --node-timeout: the longest a child may be silent
  double freeze_detect_ = kDefaultFreezeDetect;  // the sender's --freeze-detect: the least
  Clock::time_point last_beat_{}, last_link_beat_{}, last_watch_{};

  std::unique_ptr<Output> output_;
  std::unique_ptr<Ring> ring_;
  std::unique_ptr<Relay> relay_;
  std::unique_ptr<Consumer> consumer_;
  std::thread relay_thread_, consumer_thread_, accept_thread_, link_thread_, prepare_thread_;
  std::atomic<bool> prepare_done_{false};
  bool prepare_started_ = false, ready_sent_ = false;
  Result<std::string> prepare_result_{std::string()};
  std::mutex prepare_mu_;
  std::array<uint8_t, 32> prepare_hash_{};  // SHA-256 of the session's prepare text; guarded by prepare_mu_
  std::mutex exec_mu_;
  std::vector<ExecResult> exec_results_;
  std::list<std::thread> exec_threads_;
  std::set<std::string> exec_nonces_;  // each signed command runs at most once
  HandshakePool child_handshakes_{16, 4};
  LogLimiter refusals_;
  std::atomic<bool> stop_{false};
  bool done_sent_ = false;
  bool discovery_failed_ = false;
  UniqueFd wake_{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};  // the main loop's poll: something to report now

  std::mutex mu_;
  std::condition_variable link_cv_;
  bool joined_ = false;          // the pipeline runs: Accept() may hand children over
  uint64_t epoch_ = 0;
  uint64_t expected_child_ = 0;  // node id allowed to connect to us
  int child_hold_ = -1;          // keeps data for a child that has not connected yet
  bool child_branch_fed_ = false;  // we refused our child for want of its data: the sender feeds it
  int keep_cursor_ = -1;         // keeps what our grandchild may need (from our child's link beats)
  uint64_t keep_ = 0;
  bool keep_released_ = false;   // keep_cursor_ parked at the end: we had no child to keep for
  Peer wanted_parent_;           // from the latest CHAIN
  uint64_t wanted_epoch_ = 0;
  Status link_failure_;          // set when no parent can feed us
  int linking_fd_ = -1;          // connection being set up to a parent (shut down if it is superseded)
  uint64_t linking_to_ = 0;
  std::unique_ptr<SecureChannel> up_channel_;   // our parent's link (keys only: the relay has the connection)
  uint64_t up_link_ = 0;                        // its number for Relay::SendUpstream
  std::shared_ptr<LinkWatcher> child_watcher_;  // our child's link beats
};

}  // namespace ka::chain
