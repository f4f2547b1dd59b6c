// Consumer: the local end of a receiver. It reads frames from the Ring in
// order, checks each one (magic, session, offset, XXH3), folds the payload
// into the whole-stream BLAKE2b digest and writes it to the Output; at END it
// compares length and digest with the sender's. A failing Output does not stop
// the consumer: it keeps verifying (the node goes on relaying) and reports the
// failure at the end.
#pragma once

#include <sodium.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>

#include "chain/digest.h"
#include "chain/frame.h"
#include "chain/output.h"
#include "chain/ring.h"
#include "util/status.h"

namespace ka::chain {

struct ConsumeResult {
  Status status;           // Ok only if the stream was complete, verified and written
  uint64_t bytes = 0;      // payload bytes verified
  std::string digest_hex;  // our BLAKE2b of the payload
  uint64_t end_position = 0;
};

class Consumer {
 public:
  // `upstream_gone` tells the consumer that no more bytes will come (it then
  // fails if the stream is incomplete instead of waiting).
  Consumer(Ring& ring, uint64_t session_id, DigestMode digest, Output* output, std::function<bool()> upstream_gone);
  ~Consumer();

  void Run();  // thread body; returns when finished
  bool finished() const { return finished_.load(); }
  ConsumeResult result() const;
  uint64_t position() const { return pos_.load(); }
  uint64_t payload_bytes() const { return payload_.load(); }

 private:
  Status Step(bool* done);
  bool WaitFor(uint64_t end);

  Ring& ring_;
  uint64_t session_id_;
  Output* output_;
  std::function<bool()> upstream_gone_;
  int cursor_;
  StreamDigest digest_;
  std::string scratch_;
  Status output_status_;
  std::atomic<uint64_t> pos_{0};
  std::atomic<uint64_t> payload_{0};
  std::atomic<bool> finished_{false};
  mutable std::mutex mu_;
  ConsumeResult result_;
};

}  // namespace ka::chain
