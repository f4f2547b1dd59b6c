#include "cli/serve_config.h"

#include <gtest/gtest.h>

namespace ka::cli {
namespace {

using namespace std::string_literals;

TEST(ServeConfig, ReadsTheSeedsReplicationConf) {
  auto s = ParseServeConfig(
      "# replication.conf\n[serve]\n\nnodes = 8\r\n; a comment\nexclude = [\"/tmp\", '/var/cache', /srv ]\n"
      "copy_mbr = true\nhostname-template = 'node-{index:02}'\nempty_list = []",
      "r.conf");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->size(), 5u);
  EXPECT_EQ((*s)[0].key, "nodes");
  EXPECT_EQ((*s)[0].line, 4);
  EXPECT_EQ((*s)[0].values, std::vector<std::string>{"8"});
  EXPECT_EQ((*s)[1].values, (std::vector<std::string>{"/tmp", "/var/cache", "/srv"}));
  EXPECT_EQ((*s)[2].key, "copy-mbr");
  EXPECT_EQ((*s)[3].values, std::vector<std::string>{"node-{index:02}"});
  EXPECT_TRUE((*s)[4].values.empty());
}

TEST(ServeConfig, ErrorsNameTheFileAndLine) {
  auto s = ParseServeConfig("nodes = 2\njust words\n", "r.conf");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "--config r.conf line 2: expected 'option = value'");
  s = ParseServeConfig(" = 3\n", "r.conf");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("line 1: no option name"), std::string::npos);
}

TEST(ServeConfig, RefusesHugeFiles) {
  std::string big(kMaxServeConfigBytes + 1, '#');
  EXPECT_FALSE(ParseServeConfig(big, "big").ok());
  EXPECT_TRUE(ParseServeConfig(std::string(kMaxServeConfigBytes, '#'), "big").ok());
}

TEST(ServeConfig, UnterminatedQuotesAndOddBytesAreNoCrash) {
  auto s = ParseServeConfig("exclude = [\"/tmp, '/x\nname = \"a\nx = [\nnul = a\0b\n"s, "r.conf");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->size(), 4u);
}

}  // namespace
}  // namespace ka::cli
