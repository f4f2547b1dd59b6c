#include "crypto/aead.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <climits>

namespace ka::crypto {

struct Aead::Ctx {
  EVP_CIPHER_CTX* ctx = nullptr;
  ~Ctx() {
    if (ctx) EVP_CIPHER_CTX_free(ctx);
  }
};

namespace {

const EVP_CIPHER* EvpCipher(Cipher c) {
  return c == Cipher::kAes256Gcm ? EVP_aes_256_gcm() : EVP_chacha20_poly1305();
}

// A context with the cipher and key set once; each frame then only sets its nonce.
std::unique_ptr<Aead::Ctx> MakeCtx(Cipher c, const uint8_t key[kAeadKeySize], bool encrypt) {
  auto x = std::make_unique<Aead::Ctx>();
  x->ctx = EVP_CIPHER_CTX_new();
  if (!x->ctx) return nullptr;
  if (EVP_CipherInit_ex(x->ctx, EvpCipher(c), nullptr, nullptr, nullptr, encrypt ? 1 : 0) != 1) return nullptr;
  if (EVP_CIPHER_CTX_ctrl(x->ctx, EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(kAeadNonceSize), nullptr) != 1)
    return nullptr;
  if (EVP_CipherInit_ex(x->ctx, nullptr, nullptr, key, nullptr, encrypt ? 1 : 0) != 1) return nullptr;
  return x;
}

}  // namespace

const char* CipherName(Cipher c) { return c == Cipher::kAes256Gcm ? "aes-256-gcm" : "chacha20-poly1305"; }

Result<Cipher> ParseCipher(std::string_view name) {
  if (name == "aes-256-gcm") return Cipher::kAes256Gcm;
  if (name == "chacha20-poly1305") return Cipher::kChaCha20Poly1305;
  return Status::Invalid("unknown cipher '" + std::string(name) + "' (expected aes-256-gcm or chacha20-poly1305)");
}

Cipher PreferredCipher() {
  if (sodium_init() < 0) return Cipher::kChaCha20Poly1305;
  return crypto_aead_aes256gcm_is_available() ? Cipher::kAes256Gcm : Cipher::kChaCha20Poly1305;
}

Aead::Aead(Cipher c, std::unique_ptr<Ctx> enc, std::unique_ptr<Ctx> dec)
    : cipher_(c), enc_(std::move(enc)), dec_(std::move(dec)) {}

Aead::~Aead() = default;

Result<std::unique_ptr<Aead>> Aead::Create(Cipher cipher, const uint8_t key[kAeadKeySize]) {
  auto enc = MakeCtx(cipher, key, true);
  auto dec = MakeCtx(cipher, key, false);
  if (!enc || !dec) return Status::Invalid(std::string("OpenSSL cannot set up ") + CipherName(cipher));
  return std::unique_ptr<Aead>(new Aead(cipher, std::move(enc), std::move(dec)));
}

bool Aead::Seal(const uint8_t nonce[kAeadNonceSize], const uint8_t* ad, size_t ad_len, const uint8_t* in, size_t n,
                uint8_t* out, uint8_t tag[kAeadTagSize]) {
  if (n > INT_MAX || ad_len > INT_MAX) return false;
  EVP_CIPHER_CTX* c = enc_->ctx;
  int len = 0;
  if (EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, nonce) != 1) return false;
  if (ad_len > 0 && EVP_EncryptUpdate(c, nullptr, &len, ad, static_cast<int>(ad_len)) != 1) return false;
  if (n > 0 && EVP_EncryptUpdate(c, out, &len, in, static_cast<int>(n)) != 1) return false;
  if (EVP_EncryptFinal_ex(c, out + n, &len) != 1) return false;
  return EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kAeadTagSize), tag) == 1;
}

bool Aead::Open(const uint8_t nonce[kAeadNonceSize], const uint8_t* ad, size_t ad_len, const uint8_t* in, size_t n,
                uint8_t* out, const uint8_t tag[kAeadTagSize]) {
  if (n > INT_MAX || ad_len > INT_MAX) return false;
  EVP_CIPHER_CTX* c = dec_->ctx;
  int len = 0;
  if (EVP_DecryptInit_ex(c, nullptr, nullptr, nullptr, nonce) != 1) return false;
  if (ad_len > 0 && EVP_DecryptUpdate(c, nullptr, &len, ad, static_cast<int>(ad_len)) != 1) return false;
  if (n > 0 && EVP_DecryptUpdate(c, out, &len, in, static_cast<int>(n)) != 1) return false;
  // OpenSSL takes a non-const tag pointer but only reads it.
  if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kAeadTagSize), const_cast<uint8_t*>(tag)) != 1)
    return false;
  return EVP_DecryptFinal_ex(c, out + n, &len) == 1;
}

}  // namespace ka::crypto
