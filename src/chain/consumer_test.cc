#include "chain/consumer.h"

#include <gtest/gtest.h>

#include "chain/stream_test_util.h"
#include "crypto/key_file.h"
#include "util/units.h"

namespace ka::chain {
namespace {

using testing::Consume;
using testing::MemoryOutput;
using testing::PlainCrypto;
using testing::SealedStream;
using testing::StreamSpec;

bool Has(const Status& s, const std::string& text) { return s.message().find(text) != std::string::npos; }

TEST(Consumer, OpensVerifiesAndWritesAGoodStream) {
  MemoryOutput out;
  EndRecord end;
  auto r = Consume(SealedStream({}, {"hello ", "chain ", "world"}, nullptr, &end), &out, PlainCrypto());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(out.data, "hello chain world");
  EXPECT_EQ(r.bytes, 17u);
  EXPECT_TRUE(out.finished_complete);
  EXPECT_EQ(r.digest_hex, ToHex(end.tag_chain.data(), 32));
  EXPECT_TRUE(r.sha256_hex.empty());
}

TEST(Consumer, ChaChaStreamsToo) {
  MemoryOutput out;
  StreamSpec spec;
  spec.key = testing::TestKey(9, crypto::Cipher::kChaCha20Poly1305);
  auto r = Consume(SealedStream(spec, {"abc", "def"}), &out, PlainCrypto(spec.key));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(out.data, "abcdef");
}

TEST(Consumer, PayloadIsEncryptedOnTheWire) {
  std::string secret_text(1000, 'S');
  std::string wire = SealedStream({}, {secret_text});
  EXPECT_EQ(wire.find("SSSSSSSS"), std::string::npos);
}

TEST(Consumer, EmptyStream) {
  MemoryOutput out;
  auto r = Consume(SealedStream({}, {}), &out, PlainCrypto());
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.bytes, 0u);
  EXPECT_TRUE(out.finished_complete);
}

TEST(Consumer, FramesWrapAroundTheRing) {
  MemoryOutput out;
  std::vector<std::string> chunks;
  std::string all;
  for (int i = 0; i < 50; ++i) {
    chunks.push_back(std::string(1000 + i, static_cast<char>('a' + i % 26)));
    all += chunks.back();
  }
  auto r = Consume(SealedStream({}, chunks), &out, PlainCrypto(), 77, 3000);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(out.data, all);
}

TEST(Consumer, FrameFromAnotherSessionIsNamed) {
  MemoryOutput out;
  StreamSpec spec;
  spec.session_id = 78;
  auto r = Consume(SealedStream(spec, {"abc"}), &out, PlainCrypto());
  EXPECT_EQ(r.status.code(), Status::Code::kCorruption);
  EXPECT_TRUE(Has(r.status, "another session")) << r.status.ToString();
  EXPECT_FALSE(out.finished_complete);
}

TEST(Consumer, AnyAlteredByteFailsAuthentication) {
  std::string w = SealedStream({}, {"abcdef", "ghijkl"});
  // a payload byte and a tag byte of the first frame, a tag byte of the second
  for (size_t at : {kHeaderSize + 2, kTagOffset + 3, kHeaderSize + 6 + kTagOffset + 15}) {
    MemoryOutput out;
    std::string bad = w;
    bad[at] ^= 0x01;
    auto r = Consume(bad, &out, PlainCrypto());
    EXPECT_EQ(r.status.code(), Status::Code::kCorruption) << at;
    EXPECT_TRUE(Has(r.status, "failed authentication")) << r.status.ToString();
    EXPECT_FALSE(out.finished_complete);
    EXPECT_LE(out.data.size(), 6u) << "no unauthenticated byte reaches the output";
  }
}

TEST(Consumer, AnotherKeyOpensNothing) {
  MemoryOutput out;
  auto r = Consume(SealedStream({}, {"abc"}), &out, PlainCrypto(testing::TestKey(8)));
  EXPECT_TRUE(Has(r.status, "failed authentication")) << r.status.ToString();
  EXPECT_TRUE(out.data.empty());
}

TEST(Consumer, DroppedReplayedAndReorderedFramesAreCaught) {
  std::vector<std::string> f;
  SealedStream({}, {"aaa", "bbb", "ccc"}, &f);  // f: 3 DATA + END
  for (const std::string& wire : {f[0] + f[2] + f[3], f[0] + f[0] + f[1] + f[2] + f[3], f[1] + f[0] + f[2] + f[3]}) {
    MemoryOutput out;
    auto r = Consume(wire, &out, PlainCrypto());
    EXPECT_EQ(r.status.code(), Status::Code::kCorruption);
    EXPECT_TRUE(Has(r.status, "out of order")) << r.status.ToString();
    EXPECT_FALSE(out.finished_complete);
  }
}

TEST(Consumer, ForgedEndIsCaught) {
  std::vector<std::string> f;
  SealedStream({}, {"aaa", "bbb"}, &f);
  // An END sealed with another key (an outsider's forgery) claiming the stream ends early.
  EndRecord fake;
  fake.total = 3;
  auto other = FrameSealer::Create(testing::TestKey(1), 77);
  MemoryOutput out;
  auto r = Consume(f[0] + (*other)->SealEnd(fake), &out, PlainCrypto());
  EXPECT_TRUE(Has(r.status, "END frame failed authentication")) << r.status.ToString();
  EXPECT_FALSE(out.finished_complete);
}

TEST(Consumer, EndMustMatchTheFramesReceived) {
  std::vector<std::string> f;
  EndRecord end;
  SealedStream({}, {"aaa", "bbb"}, &f, &end);
  auto sealer = FrameSealer::Create(testing::TestKey(), 77);
  EndRecord bad = end;
  bad.tag_chain[0] ^= 1;
  MemoryOutput out;
  auto r = Consume(f[0] + f[1] + (*sealer)->SealEnd(bad), &out, PlainCrypto());
  EXPECT_TRUE(Has(r.status, "chain of frame tags")) << r.status.ToString();
  EXPECT_FALSE(out.finished_complete);
}

TEST(Consumer, TruncatedStreamFailsInsteadOfHanging) {
  MemoryOutput out;
  std::string w = SealedStream({}, {"abcdef"});
  auto r = Consume(w.substr(0, w.size() - 10), &out, PlainCrypto());
  EXPECT_EQ(r.status.code(), Status::Code::kClosed);
  EXPECT_FALSE(out.finished_complete);
}

TEST(Consumer, SenderAbortIsReportedAndAForgedOneIsCaught) {
  std::vector<std::string> f;
  SealedStream({}, {"abc"}, &f);
  auto sealer = FrameSealer::Create(testing::TestKey(), 77);
  MemoryOutput out;
  auto r = Consume(f[0] + (*sealer)->SealAbort(3, "source command exited with status 2"), &out, PlainCrypto());
  EXPECT_TRUE(Has(r.status, "aborted the stream: source command exited")) << r.status.ToString();
  auto outsider = FrameSealer::Create(testing::TestKey(2), 77);
  MemoryOutput out2;
  r = Consume(f[0] + (*outsider)->SealAbort(3, "forged"), &out2, PlainCrypto());
  EXPECT_TRUE(Has(r.status, "STREAM_ABORT failed authentication")) << r.status.ToString();
}

TEST(Consumer, PlainFrameInTheStreamIsRefused) {
  MemoryOutput out;
  auto r = Consume(EncodePlainFrame(FrameType::kHello, "{}"), &out, PlainCrypto());
  EXPECT_EQ(r.status.code(), Status::Code::kCorruption);
  EXPECT_TRUE(Has(r.status, "HELLO frame inside the data stream")) << r.status.ToString();
}

TEST(Consumer, OversizedDataFrameIsRefused) {
  MemoryOutput out;
  auto c = PlainCrypto();
  c.chunk_size = 4;
  auto r = Consume(SealedStream({}, {"abcdefgh"}), &out, c);
  EXPECT_TRUE(Has(r.status, "chunk size")) << r.status.ToString();
}

TEST(Consumer, PayloadDigestIsComputedAndChecked) {
  StreamSpec spec;
  spec.digest = true;
  auto c = PlainCrypto();
  c.digest = true;
  MemoryOutput out;
  auto r = Consume(SealedStream(spec, {"abc"}), &out, c);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.sha256_hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // sha256("abc")
  // The session announced a digest but END carries none.
  MemoryOutput out2;
  r = Consume(SealedStream({}, {"abc"}), &out2, c);
  EXPECT_TRUE(Has(r.status, "no payload digest")) << r.status.ToString();
}

TEST(Consumer, OutputFailureStillVerifiesTheWholeStream) {
  MemoryOutput out;
  out.fail_after = 4;
  auto r = Consume(SealedStream({}, {"abc", "def", "ghi"}), &out, PlainCrypto());
  EXPECT_EQ(r.status.code(), Status::Code::kIo);
  EXPECT_EQ(r.bytes, 9u);  // kept going so the node could keep relaying
  EXPECT_FALSE(out.finished_complete);
}

class SignedStream : public ::testing::Test {
 protected:
  crypto::SigningKey golden = crypto::NewSigningKey();
  crypto::SigningKey other = crypto::NewSigningKey();
  StreamSpec Spec(const crypto::SigningKey& k) {
    StreamSpec s;
    s.sign = [k](std::string_view m) { return crypto::Sign(k, m); };
    s.prepare_hash = crypto::Sha256::Of("{\"clone\":1}");
    return s;
  }
  ConsumerCrypto Trusting(const crypto::PublicKey& k, std::string prepare = "{\"clone\":1}") {
    ConsumerCrypto c = PlainCrypto();
    c.digest = true;
    c.verify = [k](std::string_view m, std::string_view s) { return crypto::Verify(k, m, s); };
    c.trusted = k.Fingerprint();
    c.prepare_hash = [prepare] { return crypto::Sha256::Of(prepare); };
    return c;
  }
};

TEST_F(SignedStream, TrustedSignatureIsAccepted) {
  MemoryOutput out;
  auto r = Consume(SealedStream(Spec(golden), {"image"}), &out, Trusting(golden.pub));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_TRUE(r.signature_ok);
  EXPECT_TRUE(out.finished_complete);
}

TEST_F(SignedStream, OtherKeyUnsignedOrOtherManifestIsRefused) {
  MemoryOutput a, b, c;
  auto r = Consume(SealedStream(Spec(other), {"image"}), &a, Trusting(golden.pub));
  EXPECT_EQ(r.status.code(), Status::Code::kAuth);
  EXPECT_TRUE(Has(r.status, "does not verify")) << r.status.ToString();
  EXPECT_FALSE(a.finished_complete);
  StreamSpec unsigned_spec;
  unsigned_spec.digest = true;
  r = Consume(SealedStream(unsigned_spec, {"image"}), &b, Trusting(golden.pub));
  EXPECT_TRUE(Has(r.status, "not signed")) << r.status.ToString();
  EXPECT_FALSE(b.finished_complete);
  r = Consume(SealedStream(Spec(golden), {"image"}), &c, Trusting(golden.pub, "{\"clone\":2}"));
  EXPECT_TRUE(Has(r.status, "does not verify")) << r.status.ToString();
  EXPECT_FALSE(c.finished_complete);
}

// A holder of the data key (any node with the secret) re-seals altered data
// correctly and keeps the golden's signature: the payload digest no longer matches.
TEST_F(SignedStream, KeyHolderCannotAlterASignedStream) {
  EndRecord genuine;
  SealedStream(Spec(golden), {"genuine image"}, nullptr, &genuine);
  auto sealer = FrameSealer::Create(testing::TestKey(), 77);
  std::string forged = "forged  image";
  std::string f(kHeaderSize + forged.size(), '\0');
  std::memcpy(f.data() + kHeaderSize, forged.data(), forged.size());
  auto* p = reinterpret_cast<uint8_t*>(f.data());
  (*sealer)->SealData(0, p, forged.size());
  TagChain chain;
  chain.Add(p + kTagOffset);
  EndRecord end = genuine;  // the genuine digest and signature
  end.tag_chain = chain.Final();
  MemoryOutput out;
  auto r = Consume(f + (*sealer)->SealEnd(end), &out, Trusting(golden.pub));
  EXPECT_FALSE(r.status.ok());
  EXPECT_TRUE(Has(r.status, "SHA-256 mismatch")) << r.status.ToString();
  EXPECT_FALSE(out.finished_complete);
  // And with the digest recomputed for the forgery, the signature fails.
  end.digest = crypto::Sha256::Of(forged);
  MemoryOutput out2;
  r = Consume(f + (*sealer)->SealEnd(end), &out2, Trusting(golden.pub));
  EXPECT_TRUE(Has(r.status, "does not verify")) << r.status.ToString();
  EXPECT_FALSE(out2.finished_complete);
}

}  // namespace
}  // namespace ka::chain
