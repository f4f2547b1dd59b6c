// One place that starts libsodium for the crypto room (sodium_init() is
// idempotent and thread-safe; every entry point that uses libsodium calls this).
#pragma once

namespace ka::crypto {

// Throws std::runtime_error if libsodium cannot start (no usable random source).
void InitSodium();

}  // namespace ka::crypto
