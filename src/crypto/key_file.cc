#include "crypto/key_file.h"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include <fmt/format.h>

#include "crypto/private_file.h"
#include "crypto/sodium_init.h"
#include "util/strings.h"
#include "util/units.h"

namespace ka::crypto {

namespace {

constexpr size_t kMaxKeyFileBytes = 4096;
constexpr const char* kMakeOne = "make a key pair with `ka key new DIR`";

std::string Base64(const uint8_t* data, size_t n) {
  std::string out(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, n, sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

// Exactly `n` bytes from canonical, padded standard base64 (the whole of `b64`).
bool DecodeBase64(std::string_view b64, uint8_t* out, size_t n) {
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out, n, b64.data(), b64.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0)
    return false;
  return len == n && end == b64.data() + b64.size();
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool HasInnerSpace(std::string_view s) { return s.find_first_of(" \t\r\n\v\f") != std::string_view::npos; }

}  // namespace

std::string PublicKey::Fingerprint() const {
  InitSodium();
  uint8_t h[32];
  crypto_generichash(h, sizeof h, bytes.data(), bytes.size(), nullptr, 0);
  return "ka:" + ToHex(h, 8);
}

std::string FormatPublicKey(const PublicKey& k) {
  InitSodium();
  return std::string(kPublicKeyPrefix) + Base64(k.bytes.data(), k.bytes.size());
}

Result<PublicKey> ParsePublicKey(std::string_view text) {
  InitSodium();
  const std::string t = Trim(text);
  if (t.empty()) return Status::Invalid(fmt::format("empty public key: expected a line {}BASE64 ({})", kPublicKeyPrefix, kMakeOne));
  if (StartsWith(t, kSecretKeyPrefix)) {
    return Status::Invalid("that is a secret key, not a public key: give the public half (the .pub file, or the "
                           "line `ka key show KEYFILE` prints) and keep the secret key where it is");
  }
  if (!StartsWith(t, kPublicKeyPrefix)) {
    return Status::Invalid(fmt::format("not a ka public key: expected a line starting with '{}' ({})",
                                       kPublicKeyPrefix, kMakeOne));
  }
  if (HasInnerSpace(t)) return Status::Invalid("a public key is one line without spaces: ka-ed25519:BASE64");
  PublicKey k;
  const std::string_view b64 = std::string_view(t).substr(kPublicKeyPrefix.size());
  if (!DecodeBase64(b64, k.bytes.data(), k.bytes.size())) {
    return Status::Invalid(fmt::format(
        "the public key after '{}' is not 32 bytes of standard base64 (44 characters ending with '='; "
        "{} characters given): copy the whole line of the .pub file",
        kPublicKeyPrefix, b64.size()));
  }
  if (crypto_core_ed25519_is_valid_point(k.bytes.data()) != 1) {
    return Status::Invalid("the public key is not a valid Ed25519 key (damaged?): copy it again from the .pub file");
  }
  return k;
}

Result<PublicKey> LoadPublicKey(const std::string& path_or_text) {
  const std::string t = Trim(path_or_text);
  if (StartsWith(t, kPublicKeyPrefix) || StartsWith(t, kSecretKeyPrefix)) return ParsePublicKey(t);
  if (t.empty()) return Status::Invalid(fmt::format("no public key given: give a .pub file or its line {}BASE64", kPublicKeyPrefix));
  auto f = ReadPrivateFile(path_or_text, kMaxKeyFileBytes, "public key file");
  if (!f.ok()) {
    return Status::Invalid(fmt::format("{} (give the path of a .pub file, or the key itself: {}BASE64)",
                                       f.status().message(), kPublicKeyPrefix));
  }
  if (StartsWith(Trim(f->content), kSecretKeyPrefix)) {
    sodium_memzero(f->content.data(), f->content.size());
    return Status::Invalid(fmt::format(
        "{} is a secret key file: give its public half instead (ka.pub beside it; `ka key show {}` prints it)",
        path_or_text, path_or_text));
  }
  auto k = ParsePublicKey(f->content);
  if (!k.ok()) return k.status().Wrap("public key file " + path_or_text);
  return k;
}

std::string FormatSigningKey(const SigningKey& k) {
  InitSodium();
  return std::string(kSecretKeyPrefix) + Base64(k.secret.data(), k.secret.size());
}

Result<SigningKey> ParseSigningKey(std::string_view text, const std::string& where) {
  InitSodium();
  std::string t = Trim(text);
  if (StartsWith(t, kPublicKeyPrefix)) {
    return Status::Invalid(fmt::format("{} holds a public key, not a secret key: give the ka.key file made with it",
                                       where));
  }
  if (!StartsWith(t, kSecretKeyPrefix) || HasInnerSpace(t)) {
    sodium_memzero(t.data(), t.size());
    return Status::Invalid(fmt::format("{} is not a ka secret key (expected one line '{}BASE64'; {})", where,
                                       kSecretKeyPrefix, kMakeOne));
  }
  SigningKey k;
  const bool decoded = DecodeBase64(std::string_view(t).substr(kSecretKeyPrefix.size()), k.secret.data(),
                                    k.secret.size());
  sodium_memzero(t.data(), t.size());
  if (!decoded) {
    return Status::Invalid(fmt::format("{}: the secret key is not 64 bytes of standard base64 (damaged? {})", where,
                                       kMakeOne));
  }
  // libsodium's secret key is seed || public key: both halves must agree.
  uint8_t pk[crypto_sign_PUBLICKEYBYTES];
  uint8_t sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk, sk, k.secret.data());
  const bool match = sodium_memcmp(sk, k.secret.data(), sizeof sk) == 0;
  sodium_memzero(sk, sizeof sk);
  if (!match) {
    sodium_memzero(k.secret.data(), k.secret.size());
    return Status::Invalid(fmt::format("{} is damaged: its public half does not belong to its seed ({})", where,
                                       kMakeOne));
  }
  std::copy(pk, pk + sizeof pk, k.pub.bytes.begin());
  return k;
}

Result<SigningKey> LoadSigningKey(const std::string& path) {
  auto f = ReadPrivateFile(path, kMaxKeyFileBytes, "secret key file");
  if (!f.ok()) return f.status();
  if ((f->mode & 077) != 0) {
    sodium_memzero(f->content.data(), f->content.size());
    return Status::Invalid(fmt::format(
        "secret key file {} has mode {}: group or others may read it. Run: chmod 600 {} "
        "(and make a new key with `ka key new DIR` if others could have copied it)",
        path, ModeString(f->mode), path));
  }
  auto k = ParseSigningKey(f->content, "secret key file " + path);
  sodium_memzero(f->content.data(), f->content.size());
  return k;
}

SigningKey NewSigningKey() {
  InitSodium();
  SigningKey k;
  crypto_sign_keypair(k.pub.bytes.data(), k.secret.data());
  return k;
}

Status WriteNewKeyPair(const std::string& dir, PublicKey* out) {
  InitSodium();
  if (dir.empty()) return Status::Invalid("give the directory for the key pair");
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return Status::Invalid(fmt::format("{} exists and is not a directory", dir));
  } else if (errno == ENOENT) {
    std::error_code ec;
    const auto parent = std::filesystem::path(dir).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return Status::Io(fmt::format("creating {}: {}", parent.string(), ec.message()));
    if (::mkdir(dir.c_str(), 0700) != 0) return Status::Io(ErrnoMessage("creating " + dir, errno));
    if (::chmod(dir.c_str(), 0700) != 0) return Status::Io(ErrnoMessage("setting the mode of " + dir, errno));
  } else {
    return Status::Io(ErrnoMessage("looking at " + dir, errno));
  }
  const std::string key_path = dir + "/ka.key";
  const std::string pub_path = dir + "/ka.pub";
  for (const auto& p : {key_path, pub_path}) {
    if (::lstat(p.c_str(), &st) == 0) {
      return Status::Invalid(fmt::format(
          "{} already exists: ka never overwrites a key (move it away, or choose another directory)", p));
    }
  }
  SigningKey k = NewSigningKey();
  std::string secret_line = FormatSigningKey(k) + "\n";
  Status s = WriteNewFile(key_path, secret_line, 0600);
  sodium_memzero(secret_line.data(), secret_line.size());
  sodium_memzero(k.secret.data(), k.secret.size());
  if (!s.ok()) return s;
  s = WriteNewFile(pub_path, FormatPublicKey(k.pub) + "\n", 0644);
  if (!s.ok()) {
    ::unlink(key_path.c_str());  // ours: a secret key without its public half helps nobody
    return s;
  }
  if (out) *out = k.pub;
  return Status::Ok();
}

std::string Sign(const SigningKey& k, std::string_view message) {
  InitSodium();
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(), k.secret.data());
  return sig;
}

bool Verify(const PublicKey& k, std::string_view message, std::string_view signature) {
  InitSodium();
  if (signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                     k.bytes.data()) == 0;
}

}  // namespace ka::crypto
