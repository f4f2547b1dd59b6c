// Producer: the sender's framer. Reads the Source in fixed-size chunks and
// appends DATA frames to the Ring, then one END frame carrying the length and
// BLAKE2b digest of the whole stream (or STREAM_ABORT if the source failed).
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "chain/digest.h"
#include "chain/ring.h"
#include "chain/source.h"

namespace ka::chain {

class Producer {
 public:
  Producer(Ring& ring, uint64_t session_id, Source& source, size_t chunk_size, DigestMode digest);
  // A replay producer: regenerates the stream from DATA frame `first_frame`
  // on (the source must be rereadable and the ring based at that frame's
  // position), and ends with the END of `main`, which saw the whole stream.
  void ReplayFrom(uint64_t first_frame, const Producer* main);
  void Run();  // thread body
  bool finished() const { return finished_.load(); }
  Status status() const;
  uint64_t bytes() const { return bytes_.load(); }
  std::string digest_hex() const;
  std::string digest_bytes() const;
  // Wire position just after END (valid once finished).
  uint64_t end_position() const { return end_pos_.load(); }

 private:
  Status AppendFrame(const std::string& frame);
  Status Produce();

  Ring& ring_;
  uint64_t session_id_;
  Source& source_;
  size_t chunk_;
  DigestMode digest_mode_;
  std::atomic<bool> finished_{false};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> end_pos_{0};
  mutable std::mutex mu_;
  Status status_;
  std::string digest_hex_;
  std::string digest_bytes_;
  uint64_t first_frame_ = 0;
  const Producer* main_ = nullptr;
};

}  // namespace ka::chain
