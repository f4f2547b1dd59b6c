// Aead: authenticated encryption of one frame at a time under one 256-bit key,
// AES-256-GCM or ChaCha20-Poly1305 (both with 96-bit nonces and 128-bit tags,
// RFC 5116 / RFC 8439). The chain's data plane seals and opens every DATA frame
// with it, so it runs OpenSSL's EVP implementation: on this kind of machine it
// seals AES-256-GCM at ~4.5 GB/s where libsodium 1.0.18 reaches ~1.7 GB/s
// (docs/performance.md). libsodium still decides which cipher the CPU prefers.
// An Aead is not thread-safe: one per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

namespace ka::crypto {

enum class Cipher { kAes256Gcm, kChaCha20Poly1305 };

inline constexpr size_t kAeadKeySize = 32;
inline constexpr size_t kAeadNonceSize = 12;
inline constexpr size_t kAeadTagSize = 16;

const char* CipherName(Cipher c);  // "aes-256-gcm" | "chacha20-poly1305"
Result<Cipher> ParseCipher(std::string_view name);
// AES-256-GCM when the CPU has AES-NI and carry-less multiplication
// (libsodium's crypto_aead_aes256gcm_is_available), ChaCha20-Poly1305 otherwise.
Cipher PreferredCipher();

class Aead {
 public:
  struct Ctx;  // an OpenSSL cipher context (aead.cc)
  static Result<std::unique_ptr<Aead>> Create(Cipher cipher, const uint8_t key[kAeadKeySize]);
  ~Aead();
  Aead(const Aead&) = delete;
  Aead& operator=(const Aead&) = delete;

  Cipher cipher() const { return cipher_; }
  // Encrypts n bytes of `in` into `out` (may be the same buffer) and writes the tag.
  // False only if the library fails (never for valid arguments).
  bool Seal(const uint8_t nonce[kAeadNonceSize], const uint8_t* ad, size_t ad_len, const uint8_t* in, size_t n,
            uint8_t* out, uint8_t tag[kAeadTagSize]);
  // Decrypts into `out` (may equal `in`). False when the tag does not match: the
  // bytes, the associated data, the nonce or the key differ from what was sealed.
  // `out` then holds garbage that must not be used.
  bool Open(const uint8_t nonce[kAeadNonceSize], const uint8_t* ad, size_t ad_len, const uint8_t* in, size_t n,
            uint8_t* out, const uint8_t tag[kAeadTagSize]);

 private:
  Aead(Cipher c, std::unique_ptr<Ctx> enc, std::unique_ptr<Ctx> dec);
  Cipher cipher_;
  std::unique_ptr<Ctx> enc_, dec_;
};

}  // namespace ka::crypto
