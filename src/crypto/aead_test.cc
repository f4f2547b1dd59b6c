#include "crypto/aead.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <vector>

namespace ka::crypto {
namespace {

struct Fixture {
  uint8_t key[kAeadKeySize];
  uint8_t nonce[kAeadNonceSize];
  uint8_t ad[32];
  std::vector<uint8_t> plain;
  Fixture(size_t n) : plain(n) {
    if (sodium_init() < 0) abort();
    randombytes_buf(key, sizeof key);
    randombytes_buf(nonce, sizeof nonce);
    randombytes_buf(ad, sizeof ad);
    if (!plain.empty()) randombytes_buf(plain.data(), plain.size());
  }
};

class AeadTest : public ::testing::TestWithParam<Cipher> {};

TEST_P(AeadTest, SealThenOpenRoundTrips) {
  Fixture f(262144);
  auto a = Aead::Create(GetParam(), f.key);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  std::vector<uint8_t> c(f.plain.size()), back(f.plain.size());
  uint8_t tag[kAeadTagSize];
  ASSERT_TRUE((*a)->Seal(f.nonce, f.ad, sizeof f.ad, f.plain.data(), f.plain.size(), c.data(), tag));
  EXPECT_NE(c, f.plain);
  ASSERT_TRUE((*a)->Open(f.nonce, f.ad, sizeof f.ad, c.data(), c.size(), back.data(), tag));
  EXPECT_EQ(back, f.plain);
}

TEST_P(AeadTest, InPlaceWorks) {
  Fixture f(1000);
  auto a = Aead::Create(GetParam(), f.key);
  ASSERT_TRUE(a.ok());
  std::vector<uint8_t> buf = f.plain;
  uint8_t tag[kAeadTagSize];
  ASSERT_TRUE((*a)->Seal(f.nonce, f.ad, sizeof f.ad, buf.data(), buf.size(), buf.data(), tag));
  ASSERT_TRUE((*a)->Open(f.nonce, f.ad, sizeof f.ad, buf.data(), buf.size(), buf.data(), tag));
  EXPECT_EQ(buf, f.plain);
}

TEST_P(AeadTest, EveryChangeIsDetected) {
  Fixture f(4096);
  auto a = Aead::Create(GetParam(), f.key);
  ASSERT_TRUE(a.ok());
  std::vector<uint8_t> c(f.plain.size()), out(f.plain.size());
  uint8_t tag[kAeadTagSize];
  ASSERT_TRUE((*a)->Seal(f.nonce, f.ad, sizeof f.ad, f.plain.data(), f.plain.size(), c.data(), tag));
  auto opens = [&](const uint8_t* n, const uint8_t* ad, const std::vector<uint8_t>& ct, const uint8_t* t) {
    return (*a)->Open(n, ad, sizeof f.ad, ct.data(), ct.size(), out.data(), t);
  };
  ASSERT_TRUE(opens(f.nonce, f.ad, c, tag));
  auto c2 = c;
  c2[1234] ^= 1;
  EXPECT_FALSE(opens(f.nonce, f.ad, c2, tag)) << "altered ciphertext";
  uint8_t ad2[32];
  std::copy(f.ad, f.ad + 32, ad2);
  ad2[31] ^= 0x80;
  EXPECT_FALSE(opens(f.nonce, ad2, c, tag)) << "altered associated data";
  uint8_t n2[kAeadNonceSize];
  std::copy(f.nonce, f.nonce + kAeadNonceSize, n2);
  n2[0] ^= 1;
  EXPECT_FALSE(opens(n2, f.ad, c, tag)) << "other nonce (another offset)";
  uint8_t t2[kAeadTagSize];
  std::copy(tag, tag + kAeadTagSize, t2);
  t2[15] ^= 1;
  EXPECT_FALSE(opens(f.nonce, f.ad, c, t2)) << "altered tag";
  auto shorter = c;
  shorter.pop_back();
  EXPECT_FALSE(opens(f.nonce, f.ad, shorter, tag)) << "truncated";
  uint8_t k2[kAeadKeySize];
  std::copy(f.key, f.key + kAeadKeySize, k2);
  k2[0] ^= 1;
  auto b = Aead::Create(GetParam(), k2);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE((*b)->Open(f.nonce, f.ad, sizeof f.ad, c.data(), c.size(), out.data(), tag)) << "other key";
}

TEST_P(AeadTest, EmptyMessageHasATag) {
  Fixture f(0);
  auto a = Aead::Create(GetParam(), f.key);
  ASSERT_TRUE(a.ok());
  uint8_t tag[kAeadTagSize];
  uint8_t dummy = 0;
  ASSERT_TRUE((*a)->Seal(f.nonce, f.ad, sizeof f.ad, &dummy, 0, &dummy, tag));
  EXPECT_TRUE((*a)->Open(f.nonce, f.ad, sizeof f.ad, &dummy, 0, &dummy, tag));
  f.ad[0] ^= 1;
  EXPECT_FALSE((*a)->Open(f.nonce, f.ad, sizeof f.ad, &dummy, 0, &dummy, tag));
}

INSTANTIATE_TEST_SUITE_P(Ciphers, AeadTest, ::testing::Values(Cipher::kAes256Gcm, Cipher::kChaCha20Poly1305),
                         [](const auto& p) { return std::string(p.param == Cipher::kAes256Gcm ? "Aes" : "ChaCha"); });

// OpenSSL and libsodium must agree byte for byte: another implementation of
// the protocol (docs/protocol.md) may use either.
TEST(Aead, MatchesLibsodium) {
  Fixture f(65536);
  for (Cipher cph : {Cipher::kAes256Gcm, Cipher::kChaCha20Poly1305}) {
    if (cph == Cipher::kAes256Gcm && !crypto_aead_aes256gcm_is_available()) continue;
    auto a = Aead::Create(cph, f.key);
    ASSERT_TRUE(a.ok());
    std::vector<uint8_t> c(f.plain.size()), s(f.plain.size());
    uint8_t tag[kAeadTagSize], stag[kAeadTagSize];
    ASSERT_TRUE((*a)->Seal(f.nonce, f.ad, sizeof f.ad, f.plain.data(), f.plain.size(), c.data(), tag));
    unsigned long long taglen = 0;
    if (cph == Cipher::kAes256Gcm)
      crypto_aead_aes256gcm_encrypt_detached(s.data(), stag, &taglen, f.plain.data(), f.plain.size(), f.ad,
                                             sizeof f.ad, nullptr, f.nonce, f.key);
    else
      crypto_aead_chacha20poly1305_ietf_encrypt_detached(s.data(), stag, &taglen, f.plain.data(), f.plain.size(),
                                                         f.ad, sizeof f.ad, nullptr, f.nonce, f.key);
    EXPECT_EQ(c, s) << CipherName(cph);
    EXPECT_EQ(0, sodium_memcmp(tag, stag, kAeadTagSize)) << CipherName(cph);
  }
}

TEST(Aead, Names) {
  EXPECT_EQ(ParseCipher("aes-256-gcm").value(), Cipher::kAes256Gcm);
  EXPECT_EQ(ParseCipher("chacha20-poly1305").value(), Cipher::kChaCha20Poly1305);
  EXPECT_FALSE(ParseCipher("rot13").ok());
  EXPECT_STREQ(CipherName(Cipher::kAes256Gcm), "aes-256-gcm");
}

}  // namespace
}  // namespace ka::crypto
