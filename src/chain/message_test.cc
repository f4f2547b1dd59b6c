#include "chain/message.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include "chain/discovery.h"

namespace ka::chain {
namespace {

Result<Message> Parse(const std::string& frame) {
  return ParseMessage(reinterpret_cast<const uint8_t*>(frame.data()), std::string_view(frame).substr(kHeaderSize));
}

TEST(Message, RoundTrip) {
  auto m = Parse(EncodeMessage(FrameType::kProgress, 9, Json{{"received", 5}}));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type, FrameType::kProgress);
  EXPECT_EQ(m->session_id, 9u);
  EXPECT_EQ(U64Field(m->body, "received").value(), 5u);
}

TEST(Message, RejectsNonObjectsAndBadJson) {
  for (std::string body : std::vector<std::string>{"[1,2]", "\"str\"", "{", "{\"a\":}", "", "null", std::string("\xff\xfe", 2)}) {
    std::string f = EncodeFrame(FrameType::kHello, 0, 0, body);
    auto m = Parse(f);
    EXPECT_FALSE(m.ok()) << body;
    EXPECT_EQ(m.status().code(), Status::Code::kProtocol) << body;
  }
}

TEST(Message, RejectsDataFramesOnTheControlPath) {
  auto m = Parse(EncodeFrame(FrameType::kData, 0, 0, "{}"));
  EXPECT_FALSE(m.ok());
}

TEST(Message, FieldAccessorsNameTheField) {
  Json j{{"s", 5}, {"n", -1}, {"long", std::string(300, 'x')}};
  auto s = StringField(j, "s");
  EXPECT_NE(s.status().message().find("'s'"), std::string::npos);
  EXPECT_FALSE(U64Field(j, "n").ok());
  EXPECT_FALSE(U64Field(j, "missing").ok());
  EXPECT_FALSE(StringField(j, "long").ok());
  EXPECT_TRUE(BoolField(j, "missing", true));
}

TEST(Message, ReadRejectsTruncatedAndOversizedStreams) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  std::string f = EncodeMessage(FrameType::kHello, 0, Json{{"a", 1}});
  ASSERT_EQ(write(sv[0], f.data(), f.size() - 3), static_cast<ssize_t>(f.size() - 3));
  close(sv[0]);
  auto m = ReadMessage(sv[1], DeadlineIn(2));
  EXPECT_EQ(m.status().code(), Status::Code::kClosed);
  close(sv[1]);

  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  uint8_t h[kHeaderSize];
  EncodeHeader(FrameType::kHello, 0, 0, "", h);
  PutU32(h + 8, 1u << 30);  // hostile length: must be refused before allocating
  ASSERT_EQ(write(sv[0], h, sizeof h), static_cast<ssize_t>(sizeof h));
  m = ReadMessage(sv[1], DeadlineIn(2));
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
  EXPECT_FALSE(ParseDiscover("KA01").ok());
  EXPECT_FALSE(ParseDiscover(std::string(200, 'x')).ok());
  std::string d = EncodeDiscover("a");
  EXPECT_FALSE(ParseDiscover(d + "trailing").ok());
  d.back() ^= 1;
  EXPECT_FALSE(ParseDiscover(d).ok());
  std::string bad_port = EncodeMessage(FrameType::kHere, 0, Json{{"session", "a"}, {"port", 70000}});
  EXPECT_FALSE(ParseHere(bad_port, "a").ok());
}

TEST(Discovery, TargetsAlwaysIncludeLoopback) {
  auto t = DiscoveryTargets();
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t.back(), htonl(INADDR_LOOPBACK));
}

}  // namespace
}  // namespace ka::chain
