#include "crypto/secret_file.h"

#include <sodium.h>

#include <algorithm>
#include <bitset>
#include <cmath>

#include <fmt/format.h>

#include "crypto/private_file.h"
#include "crypto/sodium_init.h"

namespace ka::crypto {

namespace {

constexpr size_t kSecretBytes = 32;
constexpr size_t kMaxSecretFileBytes = 1 << 20;

std::string_view StripNewlines(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool IsHexDigit(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

}  // namespace

Status WriteNewSecret(const std::string& path) {
  InitSodium();
  unsigned char b[kSecretBytes];
  do {
    randombytes_buf(b, sizeof b);
  } while (b[kSecretBytes - 1] == '\n' || b[kSecretBytes - 1] == '\r');
  Status s = WriteNewFile(path, std::string_view(reinterpret_cast<const char*>(b), sizeof b), 0600);
  sodium_memzero(b, sizeof b);
  return s;
}

double EstimateSecretBits(std::string_view secret) {
  const std::string_view s = StripNewlines(secret);
  if (s.empty()) return 0;
  std::bitset<256> seen;
  bool binary = false, lower = false, upper = false, digit = false, other = false, hex_only = true;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    seen.set(c);
    if (c < 0x20 || c > 0x7e) {
      binary = true;
    } else if (c >= 'a' && c <= 'z') {
      lower = true;
    } else if (c >= 'A' && c <= 'Z') {
      upper = true;
    } else if (c >= '0' && c <= '9') {
      digit = true;
    } else {
      other = true;
    }
    hex_only = hex_only && IsHexDigit(c);
  }
  const double n = static_cast<double>(s.size());
  const double distinct = static_cast<double>(seen.count());
  double bits = 0;
  if (binary) {
    bits = std::min(8 * n, 8 * distinct * 4);
  } else {
    const int alphabet = (lower ? 26 : 0) + (upper ? 26 : 0) + (digit ? 10 : 0) + (other ? 33 : 0);
    double per_char = std::log2(static_cast<double>(alphabet));
    if (hex_only) per_char = std::min(per_char, 4.0);
    bits = n * per_char;
  }
  if (seen.count() < 8) bits = std::min(bits, 8 * distinct);
  return bits;
}

Result<std::string> LoadSecret(const std::string& path) {
  auto f = ReadPrivateFile(path, kMaxSecretFileBytes, "secret file");
  if (!f.ok()) return f.status();
  if ((f->mode & 04) != 0) {
    sodium_memzero(f->content.data(), f->content.size());
    return Status::Invalid(fmt::format(
        "secret file {} has mode {}: anyone on this machine may read it. Run: chmod 600 {} "
        "(and make a new secret with `ka secret new FILE` if others could have copied it)",
        path, ModeString(f->mode), path));
  }
  std::string secret(StripNewlines(f->content));
  sodium_memzero(f->content.data(), f->content.size());
  if (secret.empty()) {
    return Status::Invalid(
        fmt::format("secret file {} is empty: remove it and make a secret with `ka secret new {}`", path, path));
  }
  const double bits = EstimateSecretBits(secret);
  if (bits < kMinSecretBits) {
    sodium_memzero(secret.data(), secret.size());
    return Status::Invalid(fmt::format(
        "secret file {} is weak: about {:.0f} bits estimated, at least {:.0f} needed (anyone who records one "
        "handshake can guess it offline). Make a good one with `ka secret new NEWFILE` (32 random bytes; or "
        "use at least 32 random hex digits) and give NEWFILE to the server and every node",
        path, std::floor(bits), kMinSecretBits));
  }
  return secret;
}

}  // namespace ka::crypto
