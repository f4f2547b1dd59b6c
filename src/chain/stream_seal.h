// The data stream's cryptography (docs/protocol.md §5): every DATA, END and
// STREAM_ABORT frame is sealed under the session's data key, which the sender
// draws at random and gives each node inside its authenticated WELCOME.
// Relays forward the sealed bytes unchanged; each node opens only its own copy.
//   DATA   nonce = (type, payload offset), AD = header bytes 0..32
//   END    the same, over an EndRecord: total length, the BLAKE2b-256 chain of
//          every DATA tag, and for signed sessions the SHA-256 of the payload and
//          the golden's Ed25519 signature
//   STREAM_ABORT  a random nonce carried in front of the sealed reason
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sodium.h>

#include "chain/auth.h"
#include "chain/frame.h"
#include "crypto/aead.h"
#include "util/status.h"

namespace ka::chain {

struct DataKey {
  crypto::Cipher cipher = crypto::Cipher::kAes256Gcm;
  Key key{};
  static DataKey Random(crypto::Cipher cipher);
};

// What END carries (sealed). Fixed size: 8 + 32 + 8 + 32 + 64 bytes.
struct EndRecord {
  static constexpr size_t kSize = 144;
  static constexpr uint64_t kHasDigest = 1, kHasSignature = 2;
  uint64_t total = 0;
  std::array<uint8_t, 32> tag_chain{};
  uint64_t flags = 0;
  std::array<uint8_t, 32> digest{};      // SHA-256 of the payload (kHasDigest)
  std::array<uint8_t, 64> signature{};   // Ed25519 over StreamSignedMessage (kHasSignature)
  std::string Encode() const;
  static Result<EndRecord> Decode(std::string_view bytes);
};

// BLAKE2b-256 over the 16-byte tags of every DATA frame, in order: the
// session's digest that nodes report in DONE and the sender compares.
class TagChain {
 public:
  TagChain();
  void Add(const uint8_t tag[kTagSize]);
  std::array<uint8_t, 32> Final();

 private:
  crypto_generichash_state st_;
};

// The bytes the golden's key signs: the session, the prepare object (the
// clone manifest; empty for `ka send`), the length and SHA-256 of the payload.
std::string StreamSignedMessage(uint64_t session_id, const std::array<uint8_t, 32>& prepare_hash, uint64_t total,
                                const std::array<uint8_t, 32>& digest);
// The bytes signed for PREPARE, so that a node acts on no manifest it cannot verify.
std::string PrepareSignedMessage(uint64_t session_id, const std::array<uint8_t, 32>& prepare_hash);

// The first 8 bytes of each DATA frame's tag, by frame number, for sources
// that are read more than once (branches for late joiners and resumes): a
// frame sealed again must come out identical, or the source changed under
// us and the second sealing (under the same nonce) must never be sent.
class TagLog {
 public:
  explicit TagLog(uint64_t frames);
  // True when the frame is new here or identical to its first sealing.
  bool CheckOrRecord(uint64_t frame, const uint8_t tag[kTagSize]);

 private:
  std::unique_ptr<std::atomic<uint64_t>[]> slots_;
  uint64_t n_;
};

// Seals frames in place. One per producing thread.
class FrameSealer {
 public:
  static Result<std::unique_ptr<FrameSealer>> Create(const DataKey& key, uint64_t session_id);
  // `frame` holds kHeaderSize free bytes then `n` payload bytes: writes the
  // header and seals the payload in place.
  bool SealData(uint64_t offset, uint8_t* frame, size_t n);
  std::string SealEnd(const EndRecord& end);
  // A STREAM_ABORT at `offset` carrying `reason`.
  std::string SealAbort(uint64_t offset, const std::string& reason);

 private:
  FrameSealer(std::unique_ptr<crypto::Aead> aead, uint64_t session_id) : aead_(std::move(aead)), sid_(session_id) {}
  std::unique_ptr<crypto::Aead> aead_;
  uint64_t sid_;
};

// Opens frames. One per consuming thread.
class FrameOpener {
 public:
  static Result<std::unique_ptr<FrameOpener>> Create(const DataKey& key);
  // Opens the payload of a sealed data frame (header already decoded and its
  // type, session and offset checked by the caller) into `out` (n bytes).
  bool Open(const uint8_t header[kHeaderSize], const FrameHeader& h, const uint8_t* payload, uint8_t* out);
  // STREAM_ABORT: the reason, or an error when it does not open.
  Result<std::string> OpenAbort(const uint8_t header[kHeaderSize], const FrameHeader& h, std::string_view payload);

 private:
  explicit FrameOpener(std::unique_ptr<crypto::Aead> aead) : aead_(std::move(aead)) {}
  std::unique_ptr<crypto::Aead> aead_;
};

}  // namespace ka::chain
