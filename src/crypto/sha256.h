// Sha256: incremental SHA-256 (OpenSSL, which uses the CPU's SHA extensions:
// about twice libsodium's BLAKE2b here). The digest of a signed stream is the
// SHA-256 of its payload: `sha256sum` of the image gives the same value.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ka::crypto {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const void* data, size_t n);
  std::array<uint8_t, 32> Final();  // once

  static std::array<uint8_t, 32> Of(std::string_view data);

 private:
  void* ctx_;  // EVP_MD_CTX
};

}  // namespace ka::crypto
