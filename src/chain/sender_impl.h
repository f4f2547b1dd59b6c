// The machinery behind chain::Sender, shared by its source files (one
// responsibility each): sender.cc (the run loop and the end), sender_setup.cc
// (keys, source, listener), sender_join.cc (handshakes, joins, data links;
// direct branches go to a BranchFeeder), sender_members.cc (each node's control channel, its
// messages and verdict, remote commands), sender_chain.cc (the start, chain
// order and relinks, PREPARE) and sender_heartbeat.cc (heartbeats, replay
// window, frozen nodes). Internal to chain/.
#pragma once

#include <atomic>
#include <condition_variable>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chain/auth.h"
#include "chain/bottleneck.h"
#include "chain/branch_feeder.h"
#include "chain/discovery.h"
#include "chain/freeze_detector.h"
#include "chain/handshake.h"
#include "chain/handshake_pool.h"
#include "chain/link_watcher.h"
#include "chain/messages.h"
#include "chain/producer.h"
#include "chain/relay.h"
#include "chain/ring.h"
#include "chain/sender.h"
#include "chain/stream_seal.h"
#include "chain/topology.h"
#include "crypto/key_file.h"
#include "util/log_limiter.h"

namespace ka::chain {

inline constexpr double kSenderHeartbeatSeconds = 0.25;  // the heartbeat loop's turn
inline constexpr double kMinFreezeSeconds = 1.5;  // the quickest a silent node counts as frozen
// CheckTimeouts runs every 0.1 s; beyond this since its last run, the sender itself was starved.
inline constexpr double kCheckLateAfterSeconds = 0.3;

enum class NodeState { kJoined, kPreparing, kReady, kStreaming, kDone, kFailed };

struct Node {
  uint64_t id = 0;
  std::string name;
  std::string mac;    // as the node reported it (may be empty)
  Endpoint endpoint;  // control peer address
  uint16_t data_port = 0;
  std::unique_ptr<SecureChannel> channel;
  std::thread reader;
  NodeState state = NodeState::kJoined;
  int position = 0;
  int chain = 0;           // which of the sender's chains (0-based) it belongs to
  uint32_t link_mbps = 0;  // its link speed as it reported it (0: unknown)
  uint64_t received = 0;  // stream position
  uint64_t payload = 0;   // verified payload bytes
  std::string digest;
  std::string error;
  double seconds = 0;
  std::map<std::string, double> phases;
  bool late = false;
  bool in_chain = true;  // connected and relaying (a locally failed node still relays)
  bool branch_fed = false;  // fed from the source directly: never needs a neighbour's window
  std::unique_ptr<FreezeDetector> liveness;  // when its silence means it is frozen
  double held_back_s = 0;                    // how long it held its chain back (bottleneck.h), and why
  std::string held_back_by;                  // "output" or "link" (the last verdict)
  bool held_back_logged = false;
  Clock::time_point beat_sent{};             // our last heartbeat to it
};

// Seconds between two heartbeats on each control connection, each way: at most `rate` a second
// over all `nodes` (docs/protocol.md §6).
double ControlBeatSeconds(int nodes, double rate);

inline size_t RoundUp(uint64_t v, uint64_t m) { return static_cast<size_t>((v + m - 1) / m * m); }

inline bool Live(const Node& n) { return n.in_chain; }

class SenderImpl {
 public:
  SenderImpl(const SendOptions& o, SessionObserver* observer);
  Result<SessionReport> Run();
  void Accept(UniqueFd fd, const Endpoint& peer);
  Result<ExecResult> RelayExec(const std::string& node, Exec command, double timeout,
                               const std::function<void()>& sent);

  uint64_t session_id() const { return session_id_; }
  StatusHandler status_handler;

 private:
  // sender_setup.cc
  Status Setup();
  Status SetupCrypto();
  Status OpenSource();
  void StartThreads();
  // sender_join.cc
  void Handshake(UniqueFd fd, Endpoint peer, HandshakePool::Slot& slot);
  Status CheckHello(const Hello& hello);
  void AcceptData(std::unique_ptr<SecureChannel> ch, const Hello& hello);
  void AcceptControl(std::unique_ptr<SecureChannel> ch, const Hello& hello, Endpoint peer);
  void LogRefusal(const Endpoint& peer, const Status& why);
  // sender_members.cc
  void ReadLoop(std::shared_ptr<Node> n);
  Status HandleNodeMessage(Node& n, const Message& m);
  Status HandleDone(Node& n, const Message& m);
  void DropNode(Node& n, const std::string& why);
  void MarkFailed(Node& n, const std::string& why);
  void RemoveFromChain(Node& n);
  // sender_heartbeat.cc
  void HeartbeatLoop();
  void SendHeartbeats();
  void CheckTimeouts();
  // sender_chain.cc
  bool WaitForStart();
  void OrderChain();
  void SendChain(std::unique_lock<std::mutex>& lock);
  void PreparePhase(std::unique_lock<std::mutex>& lock);
  void WaitPrepared(std::unique_lock<std::mutex>& lock, Clock::time_point t0);
  bool AllFinished();
  Topology PlanChains(int members) const;
  void AddRelays(int chains);
  void ReleaseHeadHold(size_t chain);
  int ChainForLateJoiner(const Node* self) const;
  bool IsChainHead(uint64_t node_id) const;
  Node* UpstreamOf(const Node& n);  // its parent in the current chain (null: the sender)
  Status HandleSuspect(Node& reporter, const Message& m);
  void WatchLinks(double late, Clock::time_point now);
  void JudgeChains(Clock::time_point now);  // who holds each chain back (bottleneck.h), every second
  uint64_t SenderKeep() const;
  int ChainOf(uint64_t node_id) const;
  uint64_t SentPosition() const;
  // sender.cc
  void Stream();
  double StreamSeconds();
  SessionReport BuildReport(double seconds);
  void Shutdown();
  void StopThreads();
  void JoinThreads();

  SendOptions opt_;
  SessionObserver& observer_;
  uint64_t session_id_;
  Secret secret_;
  DataKey data_key_;
  std::unique_ptr<crypto::SigningKey> sign_key_;
  std::string prepare_text_;       // the session's prepare object as sent (what is signed)
  std::string prepare_signature_;  // hex, empty when unsigned
  std::unique_ptr<TagLog> tag_log_;
  ProducerCrypto producer_crypto_;
  Ring ring_;
  // One relay per chain fed at once, all from ring_ (docs/protocol.md §6, chains). Created at the
  // start (chain 0 at setup, the others when the topology is chosen), never removed before the end.
  std::vector<std::unique_ptr<Relay>> relays_;
  std::vector<std::thread> relay_threads_;
  std::vector<uint64_t> chain_heads_;  // each chain's first member (0: none)
  std::vector<int> head_holds_;        // each chain keeps the stream start until its head connects
  BranchFeeder branches_;  // nodes fed from the source directly
  std::unique_ptr<Source> source_;
  std::unique_ptr<Producer> producer_;
  UniqueFd listener_;
  DiscoveryResponder discovery_;
  std::thread accept_thread_, producer_thread_, heartbeat_thread_;
  HandshakePool handshakes_;
  LogLimiter refusals_;
  std::atomic<bool> stop_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;  // wakes the heartbeat loop at the end
  int keep_cursor_ = -1;             // keeps what each chain's second node may need if its head fails
  uint64_t keep_ = 0;
  bool keep_released_ = false;  // keep_cursor_ parked at the end: no chain needed our window

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Node>> nodes_;  // chain order once started
  uint64_t next_id_ = 1;
  int readers_active_ = 0;
  bool set_up_ = false;  // Setup() succeeded: Accept() may hand connections over
  bool started_ = false;
  bool relink_needed_ = false;
  bool ending_ = false;  // BYE sent: connections closing now are expected
  uint64_t epoch_ = 0;
  double control_beat_ = kDefaultControlBeat;  // ControlBeatSeconds(--nodes, --control-rate)
  // The link beats of the nodes we feed ourselves (chain heads, direct branches), by node id.
  std::map<uint64_t, std::shared_ptr<LinkWatcher>> link_watchers_;
  uint32_t uplink_mbps_ = 0;  // our link speed towards the nodes, as the kernel reports it (0: unknown)
  Clock::time_point t_start_;
  Clock::time_point last_check_{};  // CheckTimeouts last ran (to tell a starved sender from silent nodes)
  BottleneckJudge judge_;           // from the members' PROGRESS and our own ring
  Clock::time_point last_judge_{};
  double prepare_seconds_ = 0;

  uint64_t next_exec_id_ = 1;
  std::map<uint64_t, ExecResult> exec_results_;  // guarded by mu_, signalled on cv_
};

}  // namespace ka::chain
