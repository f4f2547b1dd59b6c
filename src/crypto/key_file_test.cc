#include "crypto/key_file.h"

#include <gtest/gtest.h>

#include "crypto/temp_dir_for_test.h"
#include "util/units.h"

namespace ka::crypto {
namespace {

bool Has(const Status& s, const std::string& needle) { return s.message().find(needle) != std::string::npos; }

std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// RFC 8032, section 7.1, TEST 1 (empty message).
SigningKey Rfc8032Key() {
  const std::string seed = Unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  const std::string pub = Unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  SigningKey k;
  std::copy(seed.begin(), seed.end(), k.secret.begin());
  std::copy(pub.begin(), pub.end(), k.secret.begin() + 32);
  std::copy(pub.begin(), pub.end(), k.pub.bytes.begin());
  return k;
}

TEST(CryptoKeyFile, FormatsTheRfc8032KeyAndItsFingerprint) {
  SigningKey k = Rfc8032Key();
  EXPECT_EQ(FormatPublicKey(k.pub), "ka-ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  // python3: hashlib.blake2b(pub, digest_size=32).hexdigest()[:16]
  EXPECT_EQ(k.pub.Fingerprint(), "ka:7849ac3049680be1");
}

TEST(CryptoKeyFile, SignsAsRfc8032AndVerifies) {
  SigningKey k = Rfc8032Key();
  const std::string sig = Sign(k, "");
  EXPECT_EQ(ToHex(sig.data(), sig.size()),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f05"
            "95bbe24655141438e7a100b");
  EXPECT_TRUE(Verify(k.pub, "", sig));
  EXPECT_FALSE(Verify(k.pub, "x", sig));
  EXPECT_FALSE(Verify(k.pub, "", sig.substr(0, 63)));
  EXPECT_FALSE(Verify(k.pub, "", sig + "x"));
  std::string flipped = sig;
  flipped[10] ^= 1;
  EXPECT_FALSE(Verify(k.pub, "", flipped));
  EXPECT_FALSE(Verify(NewSigningKey().pub, "", sig));
}

TEST(CryptoKeyFile, NewKeysDifferAndRoundTripThroughText) {
  SigningKey a = NewSigningKey(), b = NewSigningKey();
  EXPECT_NE(a.pub, b.pub);
  const std::string line = FormatPublicKey(a.pub);
  EXPECT_EQ(line.size(), 11u + 44u);
  EXPECT_EQ(line.back(), '=');
  auto p = ParsePublicKey("  " + line + "\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(*p, a.pub);
  auto s = ParseSigningKey(FormatSigningKey(a) + "\n", "test");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->pub, a.pub);
  EXPECT_TRUE(Verify(a.pub, "message", Sign(*s, "message")));
  auto fp = a.pub.Fingerprint();
  EXPECT_EQ(fp.size(), 3u + 16u);
  EXPECT_EQ(fp.rfind("ka:", 0), 0u);
  EXPECT_NE(fp, b.pub.Fingerprint());
}

TEST(CryptoKeyFile, ParsePublicKeyRefusesWhatIsNotOne) {
  const std::string good = FormatPublicKey(NewSigningKey().pub);
  struct Case {
    std::string text, says;
  } cases[] = {
      {"", "empty"},
      {"ssh-ed25519 AAAA", "ka-ed25519:"},
      {good.substr(0, good.size() - 1), "44 characters"},          // padding missing
      {good.substr(0, 20), "44 characters"},                       // cut short
      {good + "AAAA", "44 characters"},                            // too long
      {"ka-ed25519:" + std::string(43, '!') + "=", "base64"},     // not base64
      {good.substr(0, 30) + " " + good.substr(30), "one line"},   // a space inside
      {good + "\n" + good, "one line"},                            // two lines
      {"ka-ed25519:" + std::string(43, 'A') + "=", "not a valid Ed25519"},  // 32 zero bytes: small order
      {FormatSigningKey(NewSigningKey()), "secret key"},
  };
  for (const auto& c : cases) {
    auto p = ParsePublicKey(c.text);
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_TRUE(Has(p.status(), c.says)) << c.text << ": " << p.status().message();
  }
}

TEST(CryptoKeyFile, SecretKeyTextIsNeverEchoedInErrors) {
  const std::string secret_line = FormatSigningKey(NewSigningKey());
  const std::string b64 = secret_line.substr(kSecretKeyPrefix.size());
  auto p = ParsePublicKey(secret_line);
  ASSERT_FALSE(p.ok());
  EXPECT_FALSE(Has(p.status(), b64.substr(0, 12)));
  auto l = LoadPublicKey(secret_line);
  ASSERT_FALSE(l.ok());
  EXPECT_FALSE(Has(l.status(), b64.substr(0, 12)));
}

TEST(CryptoKeyFile, WritesAKeyPairWithExactModesWhateverTheUmask) {
  TempDir t;
  ScopedUmask open_umask(0);
  PublicKey pub;
  const std::string dir = t / "keys/golden";  // the parent is made too
  ASSERT_TRUE(WriteNewKeyPair(dir, &pub).ok());
  EXPECT_EQ(ModeOf(dir), 0700u);
  EXPECT_EQ(ModeOf(dir + "/ka.key"), 0600u);
  EXPECT_EQ(ModeOf(dir + "/ka.pub"), 0644u);
  EXPECT_EQ(ReadAll(dir + "/ka.pub"), FormatPublicKey(pub) + "\n");
  auto k = LoadSigningKey(dir + "/ka.key");
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->pub, pub);
  auto lp = LoadPublicKey(dir + "/ka.pub");
  ASSERT_TRUE(lp.ok()) << lp.status().ToString();
  EXPECT_EQ(*lp, pub);
}

TEST(CryptoKeyFile, WritesIntoAnExistingDirectoryUnderATightUmask) {
  TempDir t;
  ScopedUmask tight(0277);  // even the owner's write bit would be masked
  ASSERT_TRUE(WriteNewKeyPair(t / "").ok());
  EXPECT_EQ(ModeOf(t / "ka.key"), 0600u);
  EXPECT_EQ(ModeOf(t / "ka.pub"), 0644u);
}

TEST(CryptoKeyFile, NeverOverwritesAndNamesTheFile) {
  TempDir t;
  const std::string dir = t / "k";
  ASSERT_TRUE(WriteNewKeyPair(dir).ok());
  const std::string key_before = ReadAll(dir + "/ka.key");
  Status again = WriteNewKeyPair(dir);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(Has(again, dir + "/ka.key")) << again.message();
  EXPECT_TRUE(Has(again, "never overwrites")) << again.message();
  EXPECT_EQ(ReadAll(dir + "/ka.key"), key_before);

  // Only a ka.pub there: refused before the secret key is written.
  const std::string dir2 = t / "k2";
  ASSERT_EQ(::mkdir(dir2.c_str(), 0700), 0);
  t.Write("k2/ka.pub", "mine\n", 0644);
  Status s = WriteNewKeyPair(dir2);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Has(s, dir2 + "/ka.pub")) << s.message();
  EXPECT_EQ(::access((dir2 + "/ka.key").c_str(), F_OK), -1);
  EXPECT_EQ(ReadAll(dir2 + "/ka.pub"), "mine\n");

  t.Write("file", "x", 0644);
  Status not_dir = WriteNewKeyPair(t / "file");
  ASSERT_FALSE(not_dir.ok());
  EXPECT_TRUE(Has(not_dir, "not a directory")) << not_dir.message();
}

TEST(CryptoKeyFile, LoadSigningKeyRefusesAFileOthersMayRead) {
  TempDir t;
  ASSERT_TRUE(WriteNewKeyPair(t / "k").ok());
  const std::string key = t / "k/ka.key";
  for (mode_t m : {0640, 0604, 0660, 0644}) {
    ASSERT_EQ(::chmod(key.c_str(), m), 0);
    auto k = LoadSigningKey(key);
    ASSERT_FALSE(k.ok()) << std::oct << m;
    EXPECT_TRUE(Has(k.status(), "chmod 600 " + key)) << k.status().message();
  }
  ASSERT_EQ(::chmod(key.c_str(), 0400), 0);
  EXPECT_TRUE(LoadSigningKey(key).ok());
}

TEST(CryptoKeyFile, LoadSigningKeyRefusesDamagedAndWrongFiles) {
  TempDir t;
  SigningKey k = NewSigningKey();
  SigningKey other = NewSigningKey();
  std::copy(other.pub.bytes.begin(), other.pub.bytes.end(), k.secret.begin() + 32);  // seed and public half disagree
  auto damaged = LoadSigningKey(t.Write("damaged.key", FormatSigningKey(k) + "\n", 0600));
  ASSERT_FALSE(damaged.ok());
  EXPECT_TRUE(Has(damaged.status(), "damaged")) << damaged.status().message();

  auto pub = LoadSigningKey(t.Write("ka.pub", FormatPublicKey(other.pub) + "\n", 0600));
  ASSERT_FALSE(pub.ok());
  EXPECT_TRUE(Has(pub.status(), "public key, not a secret key")) << pub.status().message();

  auto junk = LoadSigningKey(t.Write("junk", "hello\n", 0600));
  ASSERT_FALSE(junk.ok());
  EXPECT_TRUE(Has(junk.status(), "not a ka secret key")) << junk.status().message();

  auto missing = LoadSigningKey(t / "nope.key");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(Has(missing.status(), t / "nope.key")) << missing.status().message();
}

TEST(CryptoKeyFile, LoadPublicKeyTakesTextOrAPath) {
  TempDir t;
  const SigningKey k = NewSigningKey();
  const std::string line = FormatPublicKey(k.pub);
  auto from_text = LoadPublicKey(line);
  ASSERT_TRUE(from_text.ok()) << from_text.status().ToString();
  EXPECT_EQ(*from_text, k.pub);
  auto from_file = LoadPublicKey(t.Write("a.pub", "\n" + line + "\r\n", 0644));
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_EQ(*from_file, k.pub);

  auto missing = LoadPublicKey(t / "missing.pub");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(Has(missing.status(), t / "missing.pub")) << missing.status().message();
  EXPECT_TRUE(Has(missing.status(), "ka-ed25519:BASE64")) << missing.status().message();

  const std::string secret = t.Write("ka.key", FormatSigningKey(k) + "\n", 0600);
  auto given_secret = LoadPublicKey(secret);
  ASSERT_FALSE(given_secret.ok());
  EXPECT_TRUE(Has(given_secret.status(), "is a secret key file")) << given_secret.status().message();

  auto bad = LoadPublicKey(t.Write("bad.pub", "ka-ed25519:abc\n", 0644));
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Has(bad.status(), t / "bad.pub")) << bad.status().message();

  auto dir = LoadPublicKey(t / "");
  ASSERT_FALSE(dir.ok());
  EXPECT_TRUE(Has(dir.status(), "not a regular file")) << dir.status().message();
}

}  // namespace
}  // namespace ka::crypto
