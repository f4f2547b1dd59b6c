#include "chain/auth.h"

#include <sodium.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "util/log.h"
#include "util/units.h"

namespace ka::chain {

void InitCrypto() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

Secret Secret::FromString(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  Secret s;
  s.enabled_ = true;
  crypto_generichash(s.key_.data(), s.key_.size(), reinterpret_cast<const unsigned char*>(t.data()), t.size(),
                     reinterpret_cast<const unsigned char*>("ka-secret-v1"), 12);
  return s;
}

Result<Secret> Secret::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Invalid("cannot read secret file '" + path + "' (check the path and permissions)");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  std::string trimmed = text;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r')) trimmed.pop_back();
  if (trimmed.empty()) return Status::Invalid("secret file '" + path + "' is empty (put a passphrase in it)");
  return FromString(text);
}

static std::string Mac(const std::array<unsigned char, 32>& key, const std::string& label, const std::string& session,
                       const std::string& role, const std::string& nc, const std::string& ns) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key.data(), key.size());
  auto add = [&](const std::string& s) {
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(s.data()), s.size());
    unsigned char zero = 0;
    crypto_auth_hmacsha256_update(&st, &zero, 1);
  };
  add(label);
  add(session);
  add(role);
  add(nc);
  add(ns);
  unsigned char out[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&st, out);
  return ToHex(out, sizeof out);
}

std::string Secret::Prove(const std::string& label, const std::string& session, const std::string& role,
                          const std::string& nonce_client, const std::string& nonce_server) const {
  return Mac(key_, label, session, role, nonce_client, nonce_server);
}

bool Secret::Verify(const std::string& proof, const std::string& label, const std::string& session,
                    const std::string& role, const std::string& nonce_client, const std::string& nonce_server) const {
  std::string want = Mac(key_, label, session, role, nonce_client, nonce_server);
  if (proof.size() != want.size()) return false;
  return sodium_memcmp(proof.data(), want.data(), want.size()) == 0;
}

Result<Secret> LoadSecretOrWarn(const std::string& path, const std::string& risk) {
  if (!path.empty()) return Secret::Load(path);
  LogWarn("*** NO --secret-file: {}. Use --secret-file on the sender and every receiver. ***", risk);
  return Secret();
}

std::string NewNonce() {
  unsigned char b[32];
  randombytes_buf(b, sizeof b);
  return ToHex(b, sizeof b);
}

uint64_t RandomU64() {
  uint64_t v = 0;
  while (v == 0) randombytes_buf(&v, sizeof v);
  return v;
}

}  // namespace ka::chain
