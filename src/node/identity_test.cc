#include "node/identity.h"

#include <gtest/gtest.h>

namespace ka::node {
namespace {

const Identity kNode{7, "Rack2-N07", "52:54:00:AB:cd:0E", "10.0.0.7"};

std::string Expand(const std::string& t, const Identity& id = kNode) {
  auto r = ExpandHostname(t, id);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.value_or("");
}

TEST(NodeIdentity, Placeholders) {
  EXPECT_EQ(Expand("node{index}"), "node7");
  EXPECT_EQ(Expand("node{index:03}"), "node007");
  EXPECT_EQ(Expand("node{index:01}"), "node7");
  EXPECT_EQ(Expand("n{index:03}", {1234, "", "", ""}), "n1234");
  EXPECT_EQ(Expand("n-{mac}"), "n-525400abcd0e");
  EXPECT_EQ(Expand("ip-{ip}"), "ip-10-0-0-7");
  EXPECT_EQ(Expand("{name}"), "rack2-n07");
  EXPECT_EQ(Expand("{name}.cluster.lan"), "rack2-n07.cluster.lan");
  EXPECT_EQ(Expand("v6-{ip}", {0, "", "", "fd00:1:2::7"}), "v6-fd00-1-2--7");
  EXPECT_EQ(Expand("static"), "static");
}

TEST(NodeIdentity, ErrorsNameTheTemplateAndTheReason) {
  auto bad = ExpandHostname("node_{index}", kNode);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "hostname template 'node_{index}' for node 7 (Rack2-N07) gives an invalid hostname: 'node_7' contains "
            "'_': use only letters, digits, '-' and '.'");
  EXPECT_NE(ExpandHostname("-{index}", kNode).status().message().find("starts or ends with '-'"), std::string::npos);
  EXPECT_NE(ExpandHostname("{index}-", kNode).status().message().find("starts or ends with '-'"), std::string::npos);
  EXPECT_NE(ExpandHostname(std::string(64, 'a') + "{index}", kNode).status().message().find("at most 64"),
            std::string::npos);
  EXPECT_NE(ExpandHostname(std::string(60, 'a') + "{index}", {1234, "", "", ""}).status().message().find(
                "longer than 63"),
            std::string::npos);
  EXPECT_NE(ExpandHostname("a..{index}", kNode).status().message().find("empty label"), std::string::npos);
  EXPECT_NE(ExpandHostname("n{host}", kNode).status().message().find("unknown placeholder {host}"), std::string::npos);
  EXPECT_NE(ExpandHostname("n{index", kNode).status().message().find("'{' without '}'"), std::string::npos);
  EXPECT_NE(ExpandHostname("n}", kNode).status().message().find("'}' without '{'"), std::string::npos);
  EXPECT_NE(ExpandHostname("{name}", {1, "", "", ""}).status().message().find("has no name"), std::string::npos);
  EXPECT_NE(ExpandHostname("{ip}", {1, "", "", ""}).status().message().find("IP address is unknown"),
            std::string::npos);
  EXPECT_NE(ExpandHostname("{mac}", {1, "", "52:54:00", ""}).status().message().find("not 6 bytes"),
            std::string::npos);
  EXPECT_NE(ExpandHostname("{mac}", {1, "", "zz:54:00:00:00:00", ""}).status().message().find("not hexadecimal"),
            std::string::npos);
  EXPECT_FALSE(ExpandHostname("", kNode).ok());
  EXPECT_FALSE(ExpandHostname("n{index}", {-1, "", "", ""}).ok());
}

TEST(NodeIdentity, ValidateHostname) {
  EXPECT_TRUE(ValidateHostname("a").ok());
  EXPECT_TRUE(ValidateHostname("node-01.example.org").ok());
  EXPECT_TRUE(ValidateHostname("0node").ok());  // RFC 1123 allows a leading digit
  EXPECT_TRUE(ValidateHostname(std::string(63, 'a')).ok());
  EXPECT_FALSE(ValidateHostname(std::string(64, 'a')).ok());  // one label of 64
  EXPECT_FALSE(ValidateHostname("Node").ok());                 // ExpandHostname lowers; the check does not
  EXPECT_FALSE(ValidateHostname("node.").ok());
}

}  // namespace
}  // namespace ka::node
