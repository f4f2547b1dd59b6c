// Consumer: the local end of a receiver. It reads the sealed frames from the
// Ring in order, checks each header (sealed data frame, session, offset),
// opens the payload under the session's data key (which authenticates it)
// into a buffer and writes that to the Output; at END it checks the length,
// the tag chain and, for digest or signed sessions, the payload's SHA-256 and
// the golden's signature. Only then does it close the output as complete, so
// that nothing acts on bytes that are not verified. A failing Output does not
// stop the consumer: it keeps verifying (the node goes on relaying) and
// reports the failure at the end.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "chain/output.h"
#include "chain/ring.h"
#include "chain/stream_seal.h"
#include "crypto/sha256.h"
#include "util/status.h"

namespace ka::chain {

struct ConsumerCrypto {
  DataKey key;
  uint32_t chunk_size = 0;
  bool digest = false;  // the session's END carries the payload's SHA-256: compute and compare it
  // When set (--trust), END must carry a signature that this accepts over
  // StreamSignedMessage; otherwise the stream fails.
  std::function<bool(std::string_view message, std::string_view signature)> verify;
  std::string trusted;  // the trusted key's fingerprint, for messages
  // SHA-256 of the session's prepare text, read at END.
  std::function<std::array<uint8_t, 32>()> prepare_hash;
};

struct ConsumeResult {
  Status status;            // Ok only if the stream was complete, verified and written
  uint64_t bytes = 0;       // payload bytes verified
  std::string digest_hex;   // our tag chain (the session digest)
  std::string sha256_hex;   // the payload's SHA-256, when computed
  bool signature_ok = false;
  uint64_t end_position = 0;
  double stream_seconds = 0;  // from the first frame to a verified END (the finishing steps not counted)
};

class Consumer {
 public:
  // `upstream_gone` tells the consumer that no more bytes will come (it then
  // fails if the stream is incomplete instead of waiting).
  Consumer(Ring& ring, uint64_t session_id, ConsumerCrypto crypto, Output* output,
           std::function<bool()> upstream_gone);
  ~Consumer();

  void Run();  // thread body; returns when finished
  bool finished() const { return finished_.load(); }
  ConsumeResult result() const;
  uint64_t position() const { return pos_.load(); }
  uint64_t payload_bytes() const { return payload_.load(); }

 private:
  Status Step(bool* done);
  Status CheckEnd(const EndRecord& end);
  bool WaitFor(uint64_t end);

  Ring& ring_;
  uint64_t session_id_;
  ConsumerCrypto crypto_;
  Output* output_;
  std::function<bool()> upstream_gone_;
  int cursor_;
  std::unique_ptr<FrameOpener> opener_;
  TagChain chain_;
  std::unique_ptr<crypto::Sha256> sha_;
  std::vector<uint8_t> plain_;
  std::string scratch_;
  Status output_status_;
  std::atomic<uint64_t> pos_{0};
  std::atomic<uint64_t> payload_{0};
  std::atomic<bool> finished_{false};
  std::chrono::steady_clock::time_point first_frame_{};
  mutable std::mutex mu_;
  ConsumeResult result_;
};

}  // namespace ka::chain
