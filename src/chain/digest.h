// StreamDigest: the whole-stream digest every receiver computes and the
// sender checks. Two modes, chosen by the sender for the session:
//   full   BLAKE2b-256 of every payload byte, in order. Equal to
//          `b2sum -l 256` of the data, so images can be checked with standard
//          tools. Costs about 1.3 CPU-s per GiB on this kind of machine.
//   frames BLAKE2b-256 of the sequence of DATA frame checksums (8 bytes each,
//          little-endian). Every frame's checksum is verified against its
//          payload first, so this proves the same frames arrived in the same
//          order; nearly free, for links faster than a core can hash.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "chain/frame.h"
#include "util/status.h"

namespace ka::chain {

enum class DigestMode { kFull, kFrames };

const char* DigestModeName(DigestMode m);
Result<DigestMode> ParseDigestMode(const std::string& name);

class StreamDigest {
 public:
  explicit StreamDigest(DigestMode mode);
  // A verified DATA frame: its header (for the checksum) and payload.
  void AddFrame(const uint8_t header[kHeaderSize], std::string_view payload);
  void Final(uint8_t out[kDigestSize]);
  DigestMode mode() const { return mode_; }

 private:
  DigestMode mode_;
  crypto_generichash_state state_;
};

}  // namespace ka::chain
