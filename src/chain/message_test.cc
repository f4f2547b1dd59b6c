#include "chain/message.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chain/discovery.h"
#include "chain/messages.h"

namespace ka::chain {
namespace {

TEST(PlainMessage, RoundTrip) {
  auto m = ParsePlainMessage(EncodePlainMessage(FrameType::kHello, Json{{"a", 5}}));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type, FrameType::kHello);
  EXPECT_EQ(m->body["a"], 5);
  EXPECT_EQ(m->payload, "{\"a\":5}");
}

TEST(PlainMessage, RejectsNonObjectsAndBadJson) {
  for (std::string body :
       std::vector<std::string>{"[1,2]", "\"str\"", "{", "{\"a\":}", "", "null", std::string("\xff\xfe", 2)}) {
    auto m = ParsePlainMessage(EncodePlainFrame(FrameType::kHello, body));
    EXPECT_FALSE(m.ok()) << body;
    EXPECT_EQ(m.status().code(), Status::Code::kProtocol) << body;
  }
}

TEST(PlainMessage, RejectsSealedFramesOnThePlainPath) {
  std::string f(kHeaderSize + 2, '\0');
  EncodeHeader(FrameType::kChain, true, 2, 0, 0, nullptr, reinterpret_cast<uint8_t*>(f.data()));
  f[kHeaderSize] = '{';
  f[kHeaderSize + 1] = '}';
  EXPECT_FALSE(ParsePlainMessage(f).ok());
}

TEST(PlainMessage, ReadRejectsTruncatedAndOversized) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  std::string f = EncodePlainMessage(FrameType::kHello, Json{{"a", 1}});
  ASSERT_EQ(write(sv[0], f.data(), f.size() - 3), static_cast<ssize_t>(f.size() - 3));
  close(sv[0]);
  auto m = ReadPlain(sv[1], DeadlineIn(2));
  EXPECT_EQ(m.status().code(), Status::Code::kClosed);
  close(sv[1]);

  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  uint8_t h[kHeaderSize];
  EncodeHeader(FrameType::kHello, false, 1u << 30, 0, 0, nullptr, h);  // hostile length: refused before allocating
  ASSERT_EQ(write(sv[0], h, sizeof h), static_cast<ssize_t>(sizeof h));
  m = ReadPlain(sv[1], DeadlineIn(2));
  EXPECT_EQ(m.status().code(), Status::Code::kProtocol);
  close(sv[0]);
  close(sv[1]);
}

TEST(Discovery, DatagramsRoundTripAndFilterSessions) {
  auto s = ParseDiscover(EncodeDiscover("lab-a"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.value(), "lab-a");
  auto p = ParseHere(EncodeHere("lab-a", 4242), "lab-a");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value(), 4242);
  EXPECT_FALSE(ParseHere(EncodeHere("lab-b", 4242), "lab-a").ok());
  EXPECT_FALSE(ParseHere(EncodeDiscover("lab-a"), "lab-a").ok());
  EXPECT_FALSE(ParseDiscover(EncodeHere("lab-a", 1)).ok());
}

TEST(Discovery, JunkDatagramsAreRejected) {
  EXPECT_FALSE(ParseDiscover("").ok());
  EXPECT_FALSE(ParseDiscover("KA02").ok());
  EXPECT_FALSE(ParseDiscover(std::string(200, 'x')).ok());
  std::string d = EncodeDiscover("a");
  EXPECT_FALSE(ParseDiscover(d + "trailing").ok());
  d.back() ^= 1;
  EXPECT_FALSE(ParseDiscover(d).ok());
  EXPECT_FALSE(ParseHere(EncodePlainMessage(FrameType::kHere, Json{{"version", 2}, {"session", "a"}, {"port", 70000}}),
                         "a")
                   .ok());
  EXPECT_FALSE(ParseDiscover(EncodePlainMessage(FrameType::kDiscover, Json{{"version", 1}, {"session", "a"}})).ok());
}

TEST(Discovery, TargetsAlwaysIncludeLoopback) {
  auto t = DiscoveryTargets();
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t.back(), htonl(INADDR_LOOPBACK));
}

}  // namespace
}  // namespace ka::chain
