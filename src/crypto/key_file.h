// Ed25519 keys for ka's trust model (libsodium crypto_sign_*): the golden's
// signing key, whose public half nodes trust (`ka.trust=`, `--trust`), and an
// operator's key for remote commands (`ka.operator=`, `--allow-remote-commands`).
//
// Text forms, one line each:
//   public key  "ka-ed25519:" + standard base64 (with padding) of the 32 bytes   (DIR/ka.pub, 0644)
//   secret key  "ka-ed25519-secret:" + base64 of libsodium's 64-byte secret key  (DIR/ka.key, 0600)
// A fingerprint ("ka:" + 16 hex characters) names a public key to humans.
// `ka key new DIR` / `ka key show FILE` (cli/key_cmd) are the operator's side.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace ka::crypto {

struct PublicKey {
  std::array<uint8_t, 32> bytes{};
  // "ka:" + the first 16 hex characters of BLAKE2b-256(bytes).
  std::string Fingerprint() const;
  bool operator==(const PublicKey&) const = default;
};

struct SigningKey {
  std::array<uint8_t, 64> secret{};  // libsodium's: seed (32) then public key (32)
  PublicKey pub;
};

inline constexpr std::string_view kPublicKeyPrefix = "ka-ed25519:";
inline constexpr std::string_view kSecretKeyPrefix = "ka-ed25519-secret:";

// "ka-ed25519:" + standard base64 (with padding) of the 32 bytes; one line, no newline.
std::string FormatPublicKey(const PublicKey& k);
// The line above; surrounding whitespace is ignored, anything else is an error
// saying what was expected.
Result<PublicKey> ParsePublicKey(std::string_view text);
// A path to a file holding that line, or the line itself (kernel command lines
// carry the text). A secret key file is refused (give the .pub file).
Result<PublicKey> LoadPublicKey(const std::string& path_or_text);

// The "ka-ed25519-secret:" line of a secret key file.
std::string FormatSigningKey(const SigningKey& k);
// The secret key file's text (whitespace around it ignored); checks that its public
// half belongs to its seed. `where` names the file in errors.
Result<SigningKey> ParseSigningKey(std::string_view text, const std::string& where);
// Reads a secret key file; refuses one that group or others may access (says: chmod 600 FILE).
Result<SigningKey> LoadSigningKey(const std::string& path);

// A new random key pair.
SigningKey NewSigningKey();
// Creates DIR (mode 0700) if missing; writes DIR/ka.key (0600) and DIR/ka.pub (0644).
// Never overwrites: if either exists, nothing is written and the error names the file.
Status WriteNewKeyPair(const std::string& dir, PublicKey* out = nullptr);

// The 64-byte detached signature of `message`.
std::string Sign(const SigningKey& k, std::string_view message);
// True when `signature` is k's valid 64-byte signature of `message`.
bool Verify(const PublicKey& k, std::string_view message, std::string_view signature);

}  // namespace ka::crypto
