#include "chain/digest.h"

namespace ka::chain {

const char* DigestModeName(DigestMode m) { return m == DigestMode::kFull ? "full" : "frames"; }

Result<DigestMode> ParseDigestMode(const std::string& name) {
  if (name == "full") return DigestMode::kFull;
  if (name == "frames") return DigestMode::kFrames;
  return Status::Invalid("unknown digest mode '" + name + "' (expected full or frames)");
}

StreamDigest::StreamDigest(DigestMode mode) : mode_(mode) {
  crypto_generichash_init(&state_, nullptr, 0, kDigestSize);
}

void StreamDigest::AddFrame(const uint8_t header[kHeaderSize], std::string_view payload) {
  if (mode_ == DigestMode::kFull) {
    crypto_generichash_update(&state_, reinterpret_cast<const unsigned char*>(payload.data()), payload.size());
  } else {
    crypto_generichash_update(&state_, header + 32, 8);
  }
}

void StreamDigest::Final(uint8_t out[kDigestSize]) { crypto_generichash_final(&state_, out, kDigestSize); }

}  // namespace ka::chain
