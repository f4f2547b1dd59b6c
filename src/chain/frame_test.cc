#include "chain/frame.h"

#include <gtest/gtest.h>

#include <cstring>

namespace ka::chain {
namespace {

const uint8_t* U(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

std::string Header(FrameType t, uint32_t len, uint64_t sid = 1, uint64_t counter = 0) {
  std::string h(kHeaderSize, '\0');
  uint8_t tag[kTagSize];
  for (size_t i = 0; i < kTagSize; ++i) tag[i] = static_cast<uint8_t>(0xa0 + i);
  bool sealed = !IsPlainType(t);
  EncodeHeader(t, sealed, len, sid, counter, sealed ? tag : nullptr, reinterpret_cast<uint8_t*>(h.data()));
  return h;
}

TEST(Frame, RoundTrip) {
  std::string h = Header(FrameType::kData, 262144, 0x1122334455667788ull, 4096);
  FrameHeader hdr;
  ASSERT_TRUE(DecodeHeader(U(h), &hdr).ok());
  EXPECT_EQ(hdr.type, FrameType::kData);
  EXPECT_EQ(hdr.length, 262144u);
  EXPECT_EQ(hdr.session_id, 0x1122334455667788ull);
  EXPECT_EQ(hdr.counter, 4096u);
  EXPECT_TRUE(hdr.sealed);
  EXPECT_EQ(hdr.tag[0], 0xa0);
  EXPECT_EQ(hdr.tag[15], 0xaf);
}

TEST(Frame, SealedFlagMustMatchTheType) {
  FrameHeader out;
  std::string h = Header(FrameType::kExec, 10);
  ASSERT_TRUE(DecodeHeader(U(h), &out).ok());
  h[5] = 0;  // an EXEC in clear is never accepted
  EXPECT_FALSE(DecodeHeader(U(h), &out).ok());
  h = Header(FrameType::kData, 10);
  h[5] = 0;
  EXPECT_FALSE(DecodeHeader(U(h), &out).ok());
  h = Header(FrameType::kHello, 10);
  h[5] = 1;  // a HELLO is never sealed
  EXPECT_FALSE(DecodeHeader(U(h), &out).ok());
  for (uint8_t flags : {0, 1}) {  // REFUSE: plain before authentication, sealed after
    h = Header(FrameType::kRefuse, 10);
    h[5] = static_cast<char>(flags);
    ASSERT_TRUE(DecodeHeader(U(h), &out).ok());
    EXPECT_EQ(out.sealed, flags == 1);
  }
}

TEST(Frame, LayoutIsLittleEndianAndDocumented) {
  std::string h = Header(FrameType::kEnd, 144, 1, 2);
  EXPECT_EQ(h.substr(0, 4), "KA02");
  EXPECT_EQ(static_cast<uint8_t>(h[4]), 0x21);
  EXPECT_EQ(static_cast<uint8_t>(h[5]), 1);  // sealed
  EXPECT_EQ(static_cast<uint8_t>(h[8]), 144);  // length, low byte first
  EXPECT_EQ(static_cast<uint8_t>(h[16]), 1);   // session id, low byte first
  EXPECT_EQ(static_cast<uint8_t>(h[24]), 2);   // counter, low byte first
  EXPECT_EQ(static_cast<uint8_t>(h[32]), 0xa0);  // tag
}

TEST(Frame, PlainFrameHasZeroTagAndSession) {
  std::string f = EncodePlainFrame(FrameType::kHello, "{}");
  ASSERT_EQ(f.size(), kHeaderSize + 2);
  FrameHeader h;
  ASSERT_TRUE(DecodeHeader(U(f), &h).ok());
  EXPECT_EQ(h.session_id, 0u);
  for (uint8_t b : h.tag) EXPECT_EQ(b, 0);
  EXPECT_EQ(f.substr(kHeaderSize), "{}");
}

TEST(Frame, RejectsBadMagicAndNamesVersionOne) {
  std::string h = Header(FrameType::kData, 1);
  h[0] = 'X';
  FrameHeader out;
  Status s = DecodeHeader(U(h), &out);
  EXPECT_EQ(s.code(), Status::Code::kProtocol);
  EXPECT_NE(s.message().find("magic"), std::string::npos);
  h = Header(FrameType::kData, 1);
  h[3] = '1';
  s = DecodeHeader(U(h), &out);
  EXPECT_NE(s.message().find("version 1"), std::string::npos) << s.message();
}

TEST(Frame, RejectsReservedBitsAndUnknownType) {
  FrameHeader out;
  for (int byte : {5, 6, 7, 12, 13, 14, 15}) {
    std::string h = Header(FrameType::kData, 1);
    h[byte] = 2;
    EXPECT_FALSE(DecodeHeader(U(h), &out).ok()) << "byte " << byte;
  }
  for (int t : {0x00, 0x16, 0x1f, 0x23, 0xff}) {
    std::string h = Header(FrameType::kData, 1);
    h[4] = static_cast<char>(t);
    EXPECT_FALSE(DecodeHeader(U(h), &out).ok()) << "type " << t;
  }
}

TEST(Frame, LengthLimitsByKind) {
  FrameHeader out;
  EXPECT_TRUE(DecodeHeader(U(Header(FrameType::kHello, kMaxPlainPayload)), &out).ok());
  // A pre-authentication frame may not make its reader allocate more than 4 KiB.
  for (auto t : {FrameType::kHello, FrameType::kChallenge, FrameType::kAuth, FrameType::kDiscover, FrameType::kHere})
    EXPECT_FALSE(DecodeHeader(U(Header(t, kMaxPlainPayload + 1)), &out).ok()) << TypeName(t);
  EXPECT_TRUE(DecodeHeader(U(Header(FrameType::kLog, kMaxControlPayload)), &out).ok());
  EXPECT_FALSE(DecodeHeader(U(Header(FrameType::kLog, kMaxControlPayload + 1)), &out).ok());
  EXPECT_TRUE(DecodeHeader(U(Header(FrameType::kResponse, kMaxResponsePayload)), &out).ok());
  EXPECT_FALSE(DecodeHeader(U(Header(FrameType::kResponse, kMaxResponsePayload + 1)), &out).ok());
  EXPECT_TRUE(DecodeHeader(U(Header(FrameType::kData, kMaxDataPayload)), &out).ok());
  EXPECT_FALSE(DecodeHeader(U(Header(FrameType::kData, kMaxDataPayload + 1)), &out).ok());
  EXPECT_FALSE(DecodeHeader(U(Header(FrameType::kEnd, 0xffffffffu)), &out).ok());
}

TEST(Frame, Classes) {
  EXPECT_TRUE(IsPlainType(FrameType::kHello));
  EXPECT_TRUE(IsPlainType(FrameType::kRefuse));
  EXPECT_FALSE(IsPlainType(FrameType::kWelcome));
  EXPECT_FALSE(IsPlainType(FrameType::kExec));
  EXPECT_TRUE(IsDataType(FrameType::kEnd));
  EXPECT_FALSE(IsDataType(FrameType::kProgress));
}

TEST(Frame, NoncesAreDistinctPerTypeOffsetAndSequence) {
  uint8_t a[12], b[12], c[12], d[12];
  DataNonce(FrameType::kData, 1000, a);
  DataNonce(FrameType::kEnd, 1000, b);
  DataNonce(FrameType::kData, 1001, c);
  EXPECT_NE(0, std::memcmp(a, b, 12));
  EXPECT_NE(0, std::memcmp(a, c, 12));
  EXPECT_EQ(a[0], 0x20);
  EXPECT_EQ(GetU64(a + 4), 1000u);
  ControlNonce(7, d);
  EXPECT_EQ(GetU64(d + 4), 7u);
  EXPECT_EQ(d[0], 0);
}

TEST(Frame, LittleEndianHelpers) {
  uint8_t b[8];
  PutU64(b, 0x0102030405060708ull);
  EXPECT_EQ(b[0], 0x08);
  EXPECT_EQ(GetU64(b), 0x0102030405060708ull);
  PutU32(b, 0xdeadbeef);
  EXPECT_EQ(GetU32(b), 0xdeadbeefu);
}

}  // namespace
}  // namespace ka::chain
