// Shared-secret authentication: both ends of every connection prove, by
// HMAC-SHA256 over fresh nonces, that they hold the session secret. Without a
// secret file the session is open (and ka says so loudly).
#pragma once

#include <array>
#include <string>

#include "util/status.h"

namespace ka::chain {

class Secret {
 public:
  Secret() = default;  // no authentication
  // Reads the file; trailing newlines are ignored so `echo x > f` works.
  static Result<Secret> Load(const std::string& path);
  static Secret FromString(const std::string& text);
  bool enabled() const { return enabled_; }

  // Proof for `label` ("ka-client"/"ka-server") binding session, role and both nonces.
  std::string Prove(const std::string& label, const std::string& session, const std::string& role,
                    const std::string& nonce_client, const std::string& nonce_server) const;
  bool Verify(const std::string& proof, const std::string& label, const std::string& session,
              const std::string& role, const std::string& nonce_client, const std::string& nonce_server) const;

 private:
  bool enabled_ = false;
  std::array<unsigned char, 32> key_{};
};

// The secret from `path`, or, when path is empty, no secret and a loud
// warning that says what `risk` that opens.
Result<Secret> LoadSecretOrWarn(const std::string& path, const std::string& risk);

// 32 random bytes, hex encoded.
std::string NewNonce();
// Random non-zero 64-bit identifier.
uint64_t RandomU64();
// Must be called once before any crypto (idempotent).
void InitCrypto();

}  // namespace ka::chain
