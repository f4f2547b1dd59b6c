#include "chain/frame.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace ka::chain {
namespace {

TEST(Frame, RoundTripData) {
  std::string payload = "hello chain";
  std::string f = EncodeFrame(FrameType::kData, 0x1122334455667788ull, 4096, payload);
  ASSERT_EQ(f.size(), kHeaderSize + payload.size());
  auto* h = reinterpret_cast<const uint8_t*>(f.data());
  FrameHeader hdr;
  ASSERT_TRUE(DecodeHeader(h, &hdr).ok());
  EXPECT_EQ(hdr.type, FrameType::kData);
  EXPECT_EQ(hdr.length, payload.size());
  EXPECT_EQ(hdr.session_id, 0x1122334455667788ull);
  EXPECT_EQ(hdr.offset, 4096u);
  EXPECT_TRUE(VerifyFrame(h, std::string_view(f).substr(kHeaderSize)).ok());
}

TEST(Frame, LayoutIsLittleEndianAndDocumented) {
  std::string f = EncodeFrame(FrameType::kEnd, 1, 2, "");
  EXPECT_EQ(f.substr(0, 4), "KA01");
  EXPECT_EQ(static_cast<uint8_t>(f[4]), 0x21);
  EXPECT_EQ(static_cast<uint8_t>(f[16]), 1);  // session id, low byte first
  EXPECT_EQ(static_cast<uint8_t>(f[24]), 2);  // offset, low byte first
}

TEST(Frame, RejectsBadMagic) {
  std::string f = EncodeFrame(FrameType::kData, 1, 0, "x");
  f[0] = 'X';
  FrameHeader h;
  Status s = DecodeHeader(reinterpret_cast<const uint8_t*>(f.data()), &h);
  EXPECT_EQ(s.code(), Status::Code::kProtocol);
  EXPECT_NE(s.message().find("magic"), std::string::npos);
}

TEST(Frame, RejectsReservedBitsAndUnknownType) {
  FrameHeader h;
  std::string f = EncodeFrame(FrameType::kData, 1, 0, "x");
  f[5] = 1;
  EXPECT_FALSE(DecodeHeader(reinterpret_cast<const uint8_t*>(f.data()), &h).ok());
  f = EncodeFrame(FrameType::kData, 1, 0, "x");
  f[13] = 1;
  EXPECT_FALSE(DecodeHeader(reinterpret_cast<const uint8_t*>(f.data()), &h).ok());
  f = EncodeFrame(FrameType::kData, 1, 0, "x");
  for (int t : {0x00, 0x15, 0x1f, 0x23, 0xff}) {
    f[4] = static_cast<char>(t);
    EXPECT_FALSE(DecodeHeader(reinterpret_cast<const uint8_t*>(f.data()), &h).ok()) << t;
  }
}

TEST(Frame, RejectsOversizedLengths) {
  FrameHeader h;
  uint8_t buf[kHeaderSize];
  EncodeHeader(FrameType::kHello, 0, 0, "", buf);
  PutU32(buf + 8, kMaxControlPayload + 1);
  EXPECT_FALSE(DecodeHeader(buf, &h).ok());
  EncodeHeader(FrameType::kData, 0, 0, "", buf);
  PutU32(buf + 8, kMaxDataPayload);
  EXPECT_TRUE(DecodeHeader(buf, &h).ok());
  PutU32(buf + 8, kMaxDataPayload + 1);
  EXPECT_FALSE(DecodeHeader(buf, &h).ok());
  PutU32(buf + 8, 0xffffffffu);
  EXPECT_FALSE(DecodeHeader(buf, &h).ok());
}

TEST(Frame, DetectsEveryFlippedBit) {
  std::string payload(1000, 'a');
  std::string good = EncodeFrame(FrameType::kData, 42, 8192, payload);
  for (size_t byte = 0; byte < good.size(); byte += 37) {
    std::string bad = good;
    bad[byte] = static_cast<char>(bad[byte] ^ 0x10);
    auto* h = reinterpret_cast<const uint8_t*>(bad.data());
    FrameHeader hdr;
    if (!DecodeHeader(h, &hdr).ok()) continue;  // structural error: fine
    std::string_view p = std::string_view(bad).substr(kHeaderSize);
    if (hdr.length != p.size()) continue;
    EXPECT_EQ(VerifyFrame(h, p).code(), Status::Code::kCorruption) << "byte " << byte;
  }
}

TEST(Frame, ChecksumBindsSessionAndOffset) {
  std::string a = EncodeFrame(FrameType::kData, 1, 0, "same");
  std::string b = EncodeFrame(FrameType::kData, 2, 0, "same");
  // Splice b's payload-and-checksum under a's header fields: must not verify.
  std::string mixed = a;
  std::memcpy(mixed.data() + 32, b.data() + 32, 8);
  EXPECT_FALSE(VerifyFrame(reinterpret_cast<const uint8_t*>(mixed.data()), "same").ok());
}

TEST(Frame, RandomGarbageNeverCrashes) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    uint8_t buf[kHeaderSize];
    for (auto& b : buf) b = static_cast<uint8_t>(rng());
    if (i % 2) std::memcpy(buf, "KA01", 4);
    FrameHeader h;
    (void)DecodeHeader(buf, &h);
    (void)VerifyFrame(buf, "abc");
  }
}

TEST(Frame, EndPayload) {
  uint8_t digest[kDigestSize];
  for (size_t i = 0; i < kDigestSize; ++i) digest[i] = static_cast<uint8_t>(i);
  std::string p = EncodeEndPayload(123456789, digest);
  uint64_t total = 0;
  uint8_t back[kDigestSize];
  ASSERT_TRUE(DecodeEndPayload(p, &total, back).ok());
  EXPECT_EQ(total, 123456789u);
  EXPECT_EQ(std::memcmp(back, digest, kDigestSize), 0);
  EXPECT_FALSE(DecodeEndPayload(p.substr(1), &total, back).ok());
  EXPECT_FALSE(DecodeEndPayload(p + "x", &total, back).ok());
}

}  // namespace
}  // namespace ka::chain
