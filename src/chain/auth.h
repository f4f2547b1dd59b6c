// The session secret and the handshake's key schedule (docs/protocol.md §3).
// The secret never travels: both ends of every connection derive, from it and
// from the exact bytes of HELLO and CHALLENGE (both nonces, both bodies),
// a client proof key and one key per direction for the sealed control frames.
// Without a secret file the session is open: the same schedule runs on the
// empty secret, which protects against accidents, not against anyone.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace ka::chain {

using Key = std::array<uint8_t, 32>;

class Secret {
 public:
  Secret();  // no secret: the open session's public key
  // Reads and checks the file (crypto/secret_file.h: at least 128 bits).
  static Result<Secret> Load(const std::string& path);
  // The secret bytes themselves (tests; trailing \n/\r removed).
  static Secret FromBytes(std::string_view bytes);
  bool enabled() const { return enabled_; }
  const Key& key() const { return key_; }

 private:
  bool enabled_ = false;
  Key key_{};
};

// The secret from `path`, or, when path is empty, no secret and a loud
// warning that says what `risk` that opens.
Result<Secret> LoadSecretOrWarn(const std::string& path, const std::string& risk);

struct HandshakeKeys {
  Key proof;        // the client's proof of the secret
  Key client_send;  // client -> server sealed frames
  Key server_send;  // server -> client sealed frames
  std::array<uint8_t, 32> transcript{};
};

// Keys of one connection from the secret and the HELLO and CHALLENGE payloads
// exactly as they went over the wire.
HandshakeKeys DeriveHandshakeKeys(const Secret& secret, std::string_view hello, std::string_view challenge);
// The client's AUTH proof: 32 bytes, lower-case hex.
std::string ClientProof(const HandshakeKeys& keys);
bool CheckClientProof(const HandshakeKeys& keys, const std::string& proof_hex);

// 32 random bytes, hex encoded.
std::string NewNonce();
// n random bytes, hex encoded.
std::string RandomHex(size_t n);
// Random non-zero 64-bit identifier.
uint64_t RandomU64();
// Must be called once before any crypto (idempotent).
void InitCrypto();
// Lower-case hex to bytes; false on bad input.
bool FromHex(std::string_view hex, uint8_t* out, size_t n);

}  // namespace ka::chain
