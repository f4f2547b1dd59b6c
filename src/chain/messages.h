// The control messages of protocol version 2, one struct each, with one
// decoder that checks every member's type and limit (docs/protocol.md §6
// lists them) and one encoder. Peer-controlled JSON is only ever read
// through these decoders: a malformed message is a Protocol status that
// fails the peer that sent it, never an exception.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "chain/fields.h"
#include "util/status.h"

namespace ka::chain {

inline constexpr size_t kMaxNameLen = 128;       // session and node names
inline constexpr size_t kMaxReasonLen = 8192;
inline constexpr size_t kMaxCommandLen = 8192;
inline constexpr size_t kMaxPrepareText = 60000;  // fits one control frame with its envelope
inline constexpr size_t kMaxExecOutput = 48 * 1024;
inline constexpr size_t kMaxChainLen = 100000;
inline constexpr size_t kMaxLogLines = 1000;
inline constexpr size_t kMaxLogLine = 8192;
inline constexpr uint64_t kMaxHeldMs = 1000ULL * 86400 * 365;  // PROGRESS held_*_ms: a year
inline constexpr double kDefaultControlBeat = 0.25;  // seconds between heartbeats to the sender
inline constexpr double kDefaultNodeTimeout = 4;
inline constexpr double kDefaultFreezeDetect = 1.5;  // the quickest a silent node counts as frozen

// ---- discovery (UDP, plain) ----
struct Discover {
  uint32_t version = 0;
  std::string session;
  static Result<Discover> Decode(const Json& j);
  Json ToJson() const;
};
struct Here {
  uint32_t version = 0;
  std::string session;
  uint16_t port = 0;
  static Result<Here> Decode(const Json& j);
  Json ToJson() const;
};

// ---- handshake (plain) ----
struct Hello {
  uint32_t version = 0;
  std::string session;
  std::string role;   // control | data | status
  std::string nonce;  // 32 bytes, hex
  bool auth = false;  // the client holds a secret
  // role "control": the joining node
  std::string name;
  uint16_t data_port = 0;
  uint64_t buffer = 0;
  std::string mac;    // aa:bb:cc:dd:ee:ff or empty
  bool aes = false;   // the node's CPU runs AES-256-GCM fast
  uint32_t link_mbps = 0;  // its link's speed as the kernel reports it (0: unknown)
  // role "data": a child asking its parent for the stream
  uint64_t session_id = 0, node_id = 0, position = 0;
  bool branch = false;
  static Result<Hello> Decode(const Json& j);
  Json ToJson() const;
};
struct Challenge {
  std::string nonce;
  bool auth = false;
  static Result<Challenge> Decode(const Json& j);
  Json ToJson() const;
};
struct Auth {
  std::string proof;  // 32 bytes, hex
  static Result<Auth> Decode(const Json& j);
  Json ToJson() const;
};
struct Refuse {
  std::string reason;
  bool auth = false;  // the refusal is about the secret
  static Result<Refuse> Decode(const Json& j);
  Json ToJson() const;
};

// ---- sealed: WELCOME of each role ----
struct ControlWelcome {
  uint64_t session_id = 0, node_id = 0;
  std::string name;
  uint32_t chunk_size = 0, nodes = 0;
  std::string cipher;    // aes-256-gcm | chacha20-poly1305
  std::string data_key;  // 32 bytes, hex: the session's data key
  std::string digest;    // tags | sha256
  std::string signer;    // fingerprint of the signing key, empty when the stream is not signed
  // The control plane's pace (docs/protocol.md §6, heartbeats): PROGRESS to the sender every
  // `beat` seconds (0.25 up to 3600; the sender spreads a bounded number a second over all its
  // nodes) and `timeout`, the sender's --node-timeout (0.5 up to 3600), for the link watchers.
  // `detect`: the sender's --freeze-detect (0.3 up to 60), the least silence after which a parent
  // counts its child frozen; the child beats on their link six times as often.
  double beat = kDefaultControlBeat, timeout = kDefaultNodeTimeout, detect = kDefaultFreezeDetect;
  static Result<ControlWelcome> Decode(const Json& j);
  Json ToJson() const;
};
struct DataWelcome {
  uint64_t position = 0;
  static Result<DataWelcome> Decode(const Json& j);
  Json ToJson() const;
};
struct StatusWelcome {
  uint64_t session_id = 0;
  bool exec = false;
  static Result<StatusWelcome> Decode(const Json& j);
  Json ToJson() const;
};

// ---- sealed: session ----
struct ChainEntry {
  uint64_t id = 0;
  std::string name, host;
  uint16_t port = 0;
};
struct ChainMsg {
  uint64_t epoch = 0;
  std::vector<ChainEntry> order;  // order[0] is the sender
  static Result<ChainMsg> Decode(const Json& j);
  Json ToJson() const;
};
struct NodeProgress {  // node -> sender heartbeat
  uint64_t received = 0, payload = 0, position = 0;
  bool upstream = false;
  // Milliseconds so far that the node's ring was full while it had data to take in, by what held
  // the ring's tail: its own output (the local write), its child, the replay window kept for the
  // node after its child (chain/ring.h HeldSeconds). Optional (absent: 0).
  uint64_t held_output_ms = 0, held_child_ms = 0, held_keep_ms = 0;
  static Result<NodeProgress> Decode(const Json& j);
  Json ToJson() const;
};
struct SenderProgress {  // sender -> node heartbeat
  uint64_t sent = 0;
  static Result<SenderProgress> Decode(const Json& j);
  Json ToJson() const;
};
// The link beat: child -> parent on their data link, every 0.25 s (docs/protocol.md §6). It
// carries what the parent must keep for a resume and the sub-chain's state, aggregated node by
// node towards the chain's head (and from the head to the sender).
struct LinkBeat {
  uint64_t received = 0;  // the child's stream position
  bool has_next = false;  // the child has a child of its own that beats
  uint64_t next = 0;      // that grandchild's stream position
  uint64_t nodes = 1;     // members beating from the child down to the end of the chain (1..kMaxChainLen)
  uint64_t least = 0;     // the least stream position among them
  static Result<LinkBeat> Decode(const Json& j);
  Json ToJson() const;
};
// Node -> sender: our downstream neighbour has not beaten on our link for `silence` seconds.
struct Suspect {
  uint64_t node = 0;  // its node id
  double silence = 0;
  static Result<Suspect> Decode(const Json& j);
  Json ToJson() const;
};
struct Done {
  bool ok = false;
  uint64_t payload = 0;
  std::string digest;  // 32 bytes hex, empty when the node has none
  std::string error;
  bool unlinked = false;
  // Seconds per step of the node's work ("stream", "individualise", ...): at most
  // 32 names of [a-z_] up to 32 bytes, each 0..1e6.
  std::map<std::string, double> phases;
  static Result<Done> Decode(const Json& j);
  Json ToJson() const;
};
struct Bye {
  bool ok = false;
  std::string error;
  double release_after = 0;
  static Result<Bye> Decode(const Json& j);
  Json ToJson() const;
};
struct Abort {
  std::string reason;
  static Result<Abort> Decode(const Json& j);
  Json ToJson() const;
};
struct Prepare {
  uint32_t index = 0, nodes = 0;
  std::string name;
  std::string prepare;    // the session's prepare object, as JSON text (what is signed)
  std::string signature;  // 64 bytes hex, empty when unsigned
  static Result<Prepare> Decode(const Json& j);
  Json ToJson() const;
};
struct Ready {
  bool ok = false;
  std::string detail, error;
  static Result<Ready> Decode(const Json& j);
  Json ToJson() const;
};
struct StatusMsg {
  std::string state, detail;
  static Result<StatusMsg> Decode(const Json& j);
  Json ToJson() const;
};
struct LogMsg {
  std::vector<std::string> lines;
  static Result<LogMsg> Decode(const Json& j);
  Json ToJson() const;
};
struct Exec {  // sender -> node
  uint64_t id = 0;
  std::string command, by;
  std::string nonce;      // 16 bytes hex, chosen by the operator's client
  std::string signature;  // 64 bytes hex, the operator key's signature (ExecSignedMessage)
  static Result<Exec> Decode(const Json& j);
  Json ToJson() const;
};
struct ExecResult {
  uint64_t id = 0;
  int64_t exit = -1;  // -1: refused or could not start
  std::string output;
  static Result<ExecResult> Decode(const Json& j);
  Json ToJson() const;
};
struct Request {  // status client -> sender
  std::string op;  // snapshot | log | exec
  std::string node;
  uint64_t from = 0;
  std::string command, nonce, signature;
  static Result<Request> Decode(const Json& j);
  Json ToJson() const;
};

// The bytes an operator key signs for one remote command: it binds the
// session, the node (its name in the session), the command and a fresh nonce.
std::string ExecSignedMessage(uint64_t session_id, const std::string& node, const std::string& command,
                              const std::string& nonce_hex);

}  // namespace ka::chain
