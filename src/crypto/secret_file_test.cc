#include "crypto/secret_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "crypto/temp_dir_for_test.h"

namespace ka::crypto {
namespace {

bool Has(const Status& s, const std::string& needle) { return s.message().find(needle) != std::string::npos; }

// `n` characters cycling through `alphabet`: every character of it appears once n >= its size.
std::string Cycle(const std::string& alphabet, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(alphabet[i % alphabet.size()]);
  return s;
}

TEST(CryptoSecretFile, EstimatesTheDocumentedCases) {
  EXPECT_LT(EstimateSecretBits("hunter2"), 128);
  EXPECT_LT(EstimateSecretBits("hunter2\n"), 128);
  // 32 hex characters: exactly 128 bits, the boundary, accepted.
  const std::string hex32 = "3f9a0c7e12b45d68e9f0a1b2c3d4e5f6";
  EXPECT_DOUBLE_EQ(EstimateSecretBits(hex32), 128.0);
  EXPECT_DOUBLE_EQ(EstimateSecretBits(hex32 + "\r\n"), 128.0);
  EXPECT_DOUBLE_EQ(EstimateSecretBits("3F9A0C7E12B45D68e9f0a1b2c3d4e5f6"), 128.0);  // mixed case: still hex
  EXPECT_LT(EstimateSecretBits(hex32.substr(0, 31)), 128);
  // `head -c 32 /dev/urandom | base64`: 44 characters.
  EXPECT_GE(EstimateSecretBits("q8ZyN0v3kXbT5m2Lw9PcR1sHfD7gJ4aU6eKoYiWnBxM=\n"), 128);
  EXPECT_GE(EstimateSecretBits("q8ZyN0v3kXbT5m2Lw9PcR1sHfD7gJ4aU6eKoYiWnBxMQ"), 128);  // no + / =
  // Lower-case letters: log2(26) = 4.70 bits each; 28 pass, 27 and 22 do not.
  const std::string lower = "abcdefghijklmnopqrstuvwxyz";
  EXPECT_GE(EstimateSecretBits(Cycle(lower, 28)), 128);
  EXPECT_NEAR(EstimateSecretBits(Cycle(lower, 28)), 28 * 4.7004, 0.01);
  EXPECT_LT(EstimateSecretBits(Cycle(lower, 27)), 128);
  EXPECT_LT(EstimateSecretBits(Cycle(lower, 22)), 128);
}

TEST(CryptoSecretFile, ClassesAddUpToTheAlphabet) {
  EXPECT_NEAR(EstimateSecretBits("abcdefgh"), 8 * std::log2(26), 1e-9);
  EXPECT_NEAR(EstimateSecretBits("abcdEFGH"), 8 * std::log2(52), 1e-9);
  EXPECT_NEAR(EstimateSecretBits("abghEF12"), 8 * std::log2(62), 1e-9);
  EXPECT_NEAR(EstimateSecretBits("abcdEF12"), 8 * 4.0, 1e-9);  // all hex digits: 4 bits each
  EXPECT_NEAR(EstimateSecretBits("abcdEF1!"), 8 * std::log2(95), 1e-9);
  EXPECT_NEAR(EstimateSecretBits("ghij kl!"), 8 * std::log2(59), 1e-9);  // space is "other printable"
  // Digits only are hex digits, but log2(10) < 4 bits: the smaller counts.
  EXPECT_NEAR(EstimateSecretBits("0123456789"), 10 * std::log2(10), 1e-9);
  // Hex: 4 bits a character, not log2(36) for lower case and digits.
  EXPECT_NEAR(EstimateSecretBits("fedcba9876543210abcdef"), 22 * 4.0, 1e-9);
}

TEST(CryptoSecretFile, FewDistinctCharactersAreWeakWhateverTheLength) {
  EXPECT_LT(EstimateSecretBits(std::string(200, 'a')), 128);
  EXPECT_LT(EstimateSecretBits(Cycle("abcdefg", 500)), 128);   // 7 distinct
  EXPECT_GE(EstimateSecretBits(Cycle("abcdefgh", 500)), 128);  // 8 distinct: length counts again
  EXPECT_LT(EstimateSecretBits(Cycle("Ab1!Cd2", 300)), 128);   // every class, 7 distinct
}

TEST(CryptoSecretFile, BinarySecrets) {
  // 32 zero bytes: at most 32 bits for the one distinct byte, then at most 8 (fewer than 8 distinct).
  EXPECT_DOUBLE_EQ(EstimateSecretBits(std::string(32, '\0')), 8.0);
  std::string bytes;
  for (int i = 0; i < 32; ++i) bytes.push_back(static_cast<char>(0x80 + i * 3));
  EXPECT_DOUBLE_EQ(EstimateSecretBits(bytes), 256.0);         // 32 distinct bytes: 8 bits each
  std::string eight;  // 8 distinct bytes repeated to 64: at most 32 bits per distinct byte
  for (int i = 0; i < 64; ++i) eight.push_back(static_cast<char>(0xf0 + i % 8));
  EXPECT_DOUBLE_EQ(EstimateSecretBits(eight), 8 * 8 * 4.0);
  std::string sixteen;  // 16 bytes, 16 distinct: 128 bits, the boundary
  for (int i = 0; i < 16; ++i) sixteen.push_back(static_cast<char>(0xa0 + i));
  EXPECT_DOUBLE_EQ(EstimateSecretBits(sixteen), 128.0);
  EXPECT_DOUBLE_EQ(EstimateSecretBits(sixteen.substr(0, 15)), 120.0);
  EXPECT_DOUBLE_EQ(EstimateSecretBits("pass\tword"), 9 * 8.0);  // a tab makes it binary
  EXPECT_DOUBLE_EQ(EstimateSecretBits(""), 0.0);
  EXPECT_DOUBLE_EQ(EstimateSecretBits("\n\r\n"), 0.0);
}

TEST(CryptoSecretFile, WriteNewSecretIs32RandomBytesMode600AndNeverOverwrites) {
  TempDir t;
  ScopedUmask open_umask(0);
  const std::string a = t / "a", b = t / "b";
  ASSERT_TRUE(WriteNewSecret(a).ok());
  ASSERT_TRUE(WriteNewSecret(b).ok());
  EXPECT_EQ(ModeOf(a), 0600u);
  const std::string sa = ReadAll(a);
  ASSERT_EQ(sa.size(), 32u);
  EXPECT_NE(sa.back(), '\n');
  EXPECT_NE(sa, ReadAll(b));
  auto loaded = LoadSecret(a);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, sa);
  Status again = WriteNewSecret(a);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(Has(again, a)) << again.message();
  EXPECT_EQ(ReadAll(a), sa);
}

TEST(CryptoSecretFile, LoadSecretStripsNewlinesAndChecksStrength) {
  TempDir t;
  const std::string good = "3f9a0c7e12b45d68e9f0a1b2c3d4e5f6";
  auto ok = LoadSecret(t.Write("good", good + "\r\n\n", 0600));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, good);
  EXPECT_TRUE(LoadSecret(t.Write("group", good, 0640)).ok());  // group-readable is accepted

  auto weak = LoadSecret(t.Write("weak", "hunter2\n", 0600));
  ASSERT_FALSE(weak.ok());
  EXPECT_TRUE(Has(weak.status(), "about 36 bits")) << weak.status().message();
  EXPECT_TRUE(Has(weak.status(), "ka secret new")) << weak.status().message();
  EXPECT_TRUE(Has(weak.status(), t / "weak")) << weak.status().message();
  EXPECT_FALSE(Has(weak.status(), "hunter2"));  // never echoed

  auto short_hex = LoadSecret(t.Write("short", good.substr(0, 31), 0600));
  ASSERT_FALSE(short_hex.ok());
  EXPECT_TRUE(Has(short_hex.status(), "about 124 bits")) << short_hex.status().message();

  auto empty = LoadSecret(t.Write("empty", "\n", 0600));
  ASSERT_FALSE(empty.ok());
  EXPECT_TRUE(Has(empty.status(), "is empty")) << empty.status().message();

  auto world = LoadSecret(t.Write("world", good, 0644));
  ASSERT_FALSE(world.ok());
  EXPECT_TRUE(Has(world.status(), "chmod 600 " + t / "world")) << world.status().message();

  auto missing = LoadSecret(t / "missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(Has(missing.status(), t / "missing")) << missing.status().message();
}

}  // namespace
}  // namespace ka::crypto
