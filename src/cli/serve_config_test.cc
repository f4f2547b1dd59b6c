#include "cli/serve_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "cli/clone_cmd.h"

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

// The package's /etc/ka/ka.conf (packaging/ka.conf, docs/packaging.md): as shipped every option
// is commented out; uncommented, every line is an option of the real `ka serve` (ExpandConfig),
// and every option of ka serve is in the file.
TEST(ServeConfig, ThePackagesKaConfNamesEveryServeOption) {
  std::ifstream in(KA_SOURCE_DIR "/packaging/ka.conf");
  ASSERT_TRUE(in) << KA_SOURCE_DIR "/packaging/ka.conf";
  std::stringstream text;
  text << in.rdbuf();
  auto shipped = ParseServeConfig(text.str(), "ka.conf");
  ASSERT_TRUE(shipped.ok()) << shipped.status().ToString();
  EXPECT_TRUE(shipped->empty()) << "an option is set in the shipped file: " << (*shipped)[0].key;

  // "#nodes = 8" -> "nodes = 8"; the comments in words stay comments.
  std::string uncommented = std::regex_replace(text.str(), std::regex("(^|\n)#([a-z0-9-]+ = )"), "$1$2");
  std::string file = ::testing::TempDir() + "ka-conf-test-" + std::to_string(::getpid()) + ".conf";
  std::ofstream(file) << uncommented;
  CLI::App app("ka", "ka");
  CloneCommands clone(app);
  std::vector<std::string> argv_s = {"ka", "serve", "--config", file};
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  auto args = clone.ExpandConfig(static_cast<int>(argv.size()), argv.data());
  std::remove(file.c_str());
  ASSERT_TRUE(args.ok()) << args.status().ToString();
  auto all = ParseServeConfig(uncommented, "ka.conf");
  ASSERT_TRUE(all.ok());
  std::vector<std::string> keys;
  for (const auto& s : *all) keys.push_back(s.key);

  const CLI::App* serve = app.get_subcommand("serve");
  for (const CLI::Option* o : serve->get_options()) {
    if (o->get_lnames().empty()) continue;
    const std::string& name = o->get_lnames()[0];
    if (name == "help" || name == "config") continue;
    EXPECT_NE(std::find(keys.begin(), keys.end(), name), keys.end()) << "ka serve --" << name << " is not in ka.conf";
  }
}

}  // namespace
}  // namespace ka::cli
