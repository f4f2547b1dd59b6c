// Producer: the sender's framer. Reads the Source in fixed-size chunks,
// seals each as a DATA frame under the session's data key straight into the
// Ring (one copy: source -> ring, sealed in place), then appends the sealed
// END (length, tag chain, and for signed sessions the payload's SHA-256 and
// the golden's signature), or a STREAM_ABORT if the source failed.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>

#include "chain/ring.h"
#include "chain/source.h"
#include "chain/stream_seal.h"

namespace ka::chain {

struct ProducerCrypto {
  DataKey key;
  bool digest = false;  // put the payload's SHA-256 in END (always when signing)
  // Signs StreamSignedMessage; null for an unsigned session.
  std::function<std::string(std::string_view message)> sign;
  std::array<uint8_t, 32> prepare_hash{};  // SHA-256 of the session's prepare text ("" for ka send)
  TagLog* tag_log = nullptr;  // rereadable sources: frames sealed twice must agree
};

class Producer {
 public:
  Producer(Ring& ring, uint64_t session_id, Source& source, size_t chunk_size, ProducerCrypto crypto);
  // A replay producer: regenerates the stream from DATA frame `first_frame`
  // on (the source must be rereadable and the ring based at that frame's
  // position), and ends with the END of `main`, which saw the whole stream.
  void ReplayFrom(uint64_t first_frame, const Producer* main);
  void Run();  // thread body
  bool finished() const { return finished_.load(); }
  Status status() const;
  uint64_t bytes() const { return bytes_.load(); }
  // The session digest (the tag chain), hex; valid once finished.
  std::string digest_hex() const;
  // The payload's SHA-256, hex, when computed; valid once finished.
  std::string payload_sha256_hex() const;
  // Wire position just after END (valid once finished).
  uint64_t end_position() const { return end_pos_.load(); }

 private:
  Status AppendFrame(const std::string& frame);
  Status Produce();

  Ring& ring_;
  uint64_t session_id_;
  Source& source_;
  size_t chunk_;
  ProducerCrypto crypto_;
  std::atomic<bool> finished_{false};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> end_pos_{0};
  mutable std::mutex mu_;
  Status status_;
  EndRecord end_;
  bool have_end_ = false;
  uint64_t first_frame_ = 0;
  const Producer* main_ = nullptr;
};

}  // namespace ka::chain
