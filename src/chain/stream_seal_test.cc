#include "chain/stream_seal.h"

#include <gtest/gtest.h>

#include <cstring>

namespace ka::chain {
namespace {

TEST(EndRecord, EncodesToAFixedSizeAndBack) {
  EndRecord e;
  e.total = 123456789;
  e.tag_chain[0] = 1;
  e.flags = EndRecord::kHasDigest | EndRecord::kHasSignature;
  e.digest[31] = 2;
  e.signature[63] = 3;
  std::string b = e.Encode();
  ASSERT_EQ(b.size(), EndRecord::kSize);
  auto d = EndRecord::Decode(b);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->total, 123456789u);
  EXPECT_EQ(d->tag_chain[0], 1);
  EXPECT_EQ(d->digest[31], 2);
  EXPECT_EQ(d->signature[63], 3);
  EXPECT_FALSE(EndRecord::Decode(b.substr(1)).ok());
  b[40] = 8;  // unknown flag
  EXPECT_FALSE(EndRecord::Decode(b).ok());
}

TEST(TagLog, SecondSealingMustMatchTheFirst) {
  TagLog log(3);
  uint8_t a[kTagSize] = {1}, b[kTagSize] = {2};
  EXPECT_TRUE(log.CheckOrRecord(0, a));
  EXPECT_TRUE(log.CheckOrRecord(0, a));
  EXPECT_FALSE(log.CheckOrRecord(0, b));
  EXPECT_TRUE(log.CheckOrRecord(3, b));   // the last frame (frames + 1 slots)
  EXPECT_FALSE(log.CheckOrRecord(4, b));  // more frames than the source had
}

TEST(FrameSealer, SealingIsDeterministicPerOffset) {
  DataKey k;
  k.key.fill(3);
  auto s = FrameSealer::Create(k, 9);
  ASSERT_TRUE(s.ok());
  std::string f1(kHeaderSize + 5, '\0'), f2(kHeaderSize + 5, '\0');
  std::memcpy(f1.data() + kHeaderSize, "hello", 5);
  std::memcpy(f2.data() + kHeaderSize, "hello", 5);
  (*s)->SealData(100, reinterpret_cast<uint8_t*>(f1.data()), 5);
  (*s)->SealData(100, reinterpret_cast<uint8_t*>(f2.data()), 5);
  EXPECT_EQ(f1, f2) << "a branch re-reading the source must produce the same bytes";
  // Two aborts at one offset never share a nonce.
  EXPECT_NE((*s)->SealAbort(5, "x"), (*s)->SealAbort(5, "x"));
}

TEST(Signing, MessagesBindSessionManifestAndContent) {
  std::array<uint8_t, 32> h{}, d{};
  std::string a = StreamSignedMessage(1, h, 10, d);
  EXPECT_NE(a, StreamSignedMessage(2, h, 10, d));
  EXPECT_NE(a, StreamSignedMessage(1, h, 11, d));
  d[0] = 1;
  EXPECT_NE(a, StreamSignedMessage(1, h, 10, d));
  h[0] = 1;
  EXPECT_NE(PrepareSignedMessage(1, h), PrepareSignedMessage(1, {}));
  EXPECT_NE(PrepareSignedMessage(1, h).substr(0, 19), a.substr(0, 19)) << "distinct labels";
}

}  // namespace
}  // namespace ka::chain
