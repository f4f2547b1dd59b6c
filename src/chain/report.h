// The end-of-session summary: printed as a table and written as JSON.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <map>
#include <string>
#include <vector>

namespace ka::chain {

struct NodeReport {
  uint64_t id = 0;
  std::string name;
  std::string address;
  std::string mac;  // as the node reported it
  int position = 0;  // 1 = first after the sender (in address order, across chains)
  int chain = 1;     // which of the chains fed at once (1-based)
  bool ok = false;
  uint64_t bytes = 0;
  std::string digest;
  std::string error;
  double seconds = 0;                     // from the stream's start to its DONE (finishing steps included)
  std::map<std::string, double> phases;   // as the node reported them; "stream": its stream alone
  double StreamSeconds() const;           // phases["stream"], else seconds
  double max_heartbeat_gap = 0;           // the longest wait between two of its heartbeats
  double held_back_s = 0;                 // how long it held its chain back (chain/bottleneck.h)
  std::string held_back_by;               // why: "output" (its write) or "link" (its link or CPU); "" never
};

struct SessionReport {
  std::string session;
  std::string session_id;
  std::string source;
  uint64_t bytes = 0;
  double seconds = 0;          // the stream: from its start until the last OK node had verified it
  double session_seconds = 0;  // the whole session, from the start to the end (joins not counted)
  std::string digest;          // the session digest: the chain of frame tags (docs/protocol.md §5)
  std::string digest_mode;     // tags | sha256
  std::string payload_sha256;  // sha256sum of the payload, when the session computed it
  std::string cipher;          // the data frames' AEAD
  std::string signed_by;       // fingerprint of the golden's signing key, empty when unsigned
  std::string error;  // session-level failure (source failed...)
  std::vector<NodeReport> nodes;
  nlohmann::json extra;      // merged into ToJson() (e.g. a clone's used bytes and phases)
  std::string extra_text;    // appended to SummaryText()

  double ThroughputMiBs() const { return seconds > 0 ? static_cast<double>(bytes) / 1048576.0 / seconds : 0; }
  bool AllOk() const;
  nlohmann::json ToJson() const;
  std::string SummaryText() const;
};

}  // namespace ka::chain
