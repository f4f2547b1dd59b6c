#include "chain/auth.h"

#include <sodium.h>

#include <cstring>
#include <stdexcept>

#include "chain/frame.h"
#include "crypto/secret_file.h"
#include "util/log.h"
#include "util/units.h"

namespace ka::chain {

namespace {

constexpr char kSecretLabel[] = "ka2-secret";     // K = BLAKE2b-256(label || 0 || secret)
constexpr char kHandshakeLabel[] = "ka2-handshake";
constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "ka2hsk01";

Key SecretKey(std::string_view secret) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kSecretLabel), sizeof kSecretLabel);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  Key k;
  crypto_generichash_final(&st, k.data(), k.size());
  return k;
}

}  // namespace

void InitCrypto() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

Secret::Secret() : key_(SecretKey("")) {}

Secret Secret::FromBytes(std::string_view bytes) {
  while (!bytes.empty() && (bytes.back() == '\n' || bytes.back() == '\r')) bytes.remove_suffix(1);
  Secret s;
  s.enabled_ = true;
  s.key_ = SecretKey(bytes);
  return s;
}

Result<Secret> Secret::Load(const std::string& path) {
  auto text = crypto::LoadSecret(path);
  if (!text.ok()) return text.status();
  return FromBytes(text.value());
}

Result<Secret> LoadSecretOrWarn(const std::string& path, const std::string& risk) {
  if (!path.empty()) return Secret::Load(path);
  LogWarn("*** NO --secret-file: {}. Use --secret-file on the sender and every receiver. ***", risk);
  return Secret();
}

HandshakeKeys DeriveHandshakeKeys(const Secret& secret, std::string_view hello, std::string_view challenge) {
  HandshakeKeys k;
  // Transcript hash over both payloads, each with its length.
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  for (std::string_view part : {hello, challenge}) {
    uint8_t len[4];
    PutU32(len, static_cast<uint32_t>(part.size()));
    crypto_generichash_update(&st, len, 4);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(part.data()), part.size());
  }
  crypto_generichash_final(&st, k.transcript.data(), k.transcript.size());
  // PRK = BLAKE2b-256(key = K, label || 0 || transcript)
  Key prk;
  crypto_generichash_init(&st, secret.key().data(), secret.key().size(), 32);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kHandshakeLabel), sizeof kHandshakeLabel);
  crypto_generichash_update(&st, k.transcript.data(), k.transcript.size());
  crypto_generichash_final(&st, prk.data(), prk.size());
  crypto_kdf_derive_from_key(k.proof.data(), k.proof.size(), 1, kKdfContext, prk.data());
  crypto_kdf_derive_from_key(k.client_send.data(), k.client_send.size(), 3, kKdfContext, prk.data());
  crypto_kdf_derive_from_key(k.server_send.data(), k.server_send.size(), 4, kKdfContext, prk.data());
  sodium_memzero(prk.data(), prk.size());
  return k;
}

std::string ClientProof(const HandshakeKeys& keys) {
  uint8_t mac[32];
  crypto_generichash(mac, sizeof mac, keys.transcript.data(), keys.transcript.size(), keys.proof.data(),
                     keys.proof.size());
  return ToHex(mac, sizeof mac);
}

bool CheckClientProof(const HandshakeKeys& keys, const std::string& proof_hex) {
  std::string want = ClientProof(keys);
  if (proof_hex.size() != want.size()) return false;
  return sodium_memcmp(proof_hex.data(), want.data(), want.size()) == 0;
}

std::string NewNonce() { return RandomHex(32); }

std::string RandomHex(size_t n) {
  std::string b(n, '\0');
  randombytes_buf(b.data(), b.size());
  return ToHex(b.data(), b.size());
}

uint64_t RandomU64() {
  uint64_t v = 0;
  while (v == 0) randombytes_buf(&v, sizeof v);
  return v;
}

bool FromHex(std::string_view hex, uint8_t* out, size_t n) {
  if (hex.size() != 2 * n) return false;
  size_t got = 0;
  return sodium_hex2bin(out, n, hex.data(), hex.size(), nullptr, &got, nullptr) == 0 && got == n;
}

}  // namespace ka::chain
