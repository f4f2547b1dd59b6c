#include "util/net.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ka {
namespace {

TEST(Net, UnreadBytesCountsWhatWaitsInTheSocket) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  EXPECT_EQ(UnreadBytes(sv[1]), 0u);
  ASSERT_EQ(::write(sv[0], "hello", 5), 5);
  EXPECT_EQ(UnreadBytes(sv[1]), 5u);
  char b[5];
  ASSERT_EQ(::read(sv[1], b, 5), 5);
  EXPECT_EQ(UnreadBytes(sv[1]), 0u);
  ::close(sv[0]);
  ::close(sv[1]);
  EXPECT_EQ(UnreadBytes(sv[1]), 0u);  // a closed descriptor: 0, no crash
}

TEST(Net, ParseAndFormatIpv4) {
  auto a = ParseIpv4("192.168.1.2", "x");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 0xc0a80102u);
  EXPECT_EQ(FormatIpv4(*a), "192.168.1.2");
  EXPECT_EQ(FormatIpv4(0), "0.0.0.0");
  EXPECT_EQ(FormatIpv4(0xffffffffu), "255.255.255.255");
  auto bad = ParseIpv4("10.0.0", "--host h");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "--host h: '10.0.0' is not an IPv4 address (a.b.c.d)");
  EXPECT_FALSE(ParseIpv4("10.0.0.256", "x").ok());
  EXPECT_FALSE(ParseIpv4("node1", "x").ok());
}

TEST(Net, ParseIpv4Net) {
  auto n = ParseIpv4Net("10.1.2.3/8");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(FormatIpv4(n->Network()), "10.0.0.0");
  EXPECT_EQ(FormatIpv4(n->Mask()), "255.0.0.0");
  EXPECT_TRUE(n->Contains(*ParseIpv4("10.200.0.1", "x")));
  EXPECT_FALSE(n->Contains(*ParseIpv4("11.0.0.1", "x")));
  auto d = ParseIpv4Net("192.168.7.9");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->prefix, 24);
  EXPECT_EQ(ParseIpv4Net("0.0.0.0/0")->Mask(), 0u);
  EXPECT_FALSE(ParseIpv4Net("10.0.0.0/33").ok());
  EXPECT_FALSE(ParseIpv4Net("10.0.0.0/").ok());
  EXPECT_FALSE(ParseIpv4Net("10.0.0.0/x").ok());
  EXPECT_FALSE(ParseIpv4Net("ten/8").ok());
}

TEST(Net, LinkSpeedIsUnknownWithoutAReportingInterface) {
  EXPECT_EQ(InterfaceOfAddress("127.0.0.1"), "lo");
  EXPECT_EQ(LinkMbpsOfAddress("127.0.0.1"), 0u);    // loopback reports no speed
  EXPECT_EQ(InterfaceOfAddress("192.0.2.77"), "");  // TEST-NET-1: held by no interface here
  EXPECT_EQ(LinkMbpsOfAddress("192.0.2.77"), 0u);
}

}  // namespace
}  // namespace ka
