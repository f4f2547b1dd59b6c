#include "control/web_token.h"

#include <gtest/gtest.h>

#include <regex>

#include "crypto/temp_dir_for_test.h"

namespace ka::control {
namespace {

using crypto::ModeOf;
using crypto::ReadAll;
using crypto::ScopedUmask;
using crypto::TempDir;

TEST(ControlWebToken, AMissingFileGetsANewTokenMode600) {
  TempDir t;
  ScopedUmask open_umask(0);
  auto w = LoadOrCreateWebToken(t / "token", "");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_TRUE(std::regex_match(w->token, std::regex("[0-9a-f]{32}"))) << w->token;
  EXPECT_TRUE(w->created);
  EXPECT_EQ(w->file, t / "token");
  EXPECT_EQ(ReadAll(t / "token"), w->token + "\n");
  EXPECT_EQ(ModeOf(t / "token"), 0600u);
  auto again = LoadOrCreateWebToken(t / "token", "");  // the next session keeps it
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->token, w->token);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->warning, "");
}

TEST(ControlWebToken, AnEmptyFileIsFilledAndMadeMode600) {
  TempDir t;
  const std::string f = t.Write("token", "", 0644);
  auto w = LoadOrCreateWebToken(f, "");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_TRUE(w->created);
  EXPECT_EQ(ModeOf(f), 0600u);
  EXPECT_EQ(ReadAll(f), w->token + "\n");
}

TEST(ControlWebToken, AnExistingTokenIsItsTrimmedFirstLineAndALaxModeIsWarnedAbout) {
  TempDir t;
  const std::string f = t.Write("token", "  my-bookmark.token \nsecond line\n", 0644);
  auto w = LoadOrCreateWebToken(f, "");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->token, "my-bookmark.token");
  EXPECT_FALSE(w->created);
  EXPECT_NE(w->warning.find("chmod 600 " + f), std::string::npos) << w->warning;
  EXPECT_EQ(ReadAll(f), "  my-bookmark.token \nsecond line\n");  // untouched
}

TEST(ControlWebToken, WithoutAFileTheTokenGoesToTheSessionDirectory) {
  TempDir t;
  auto w = LoadOrCreateWebToken("", t / "");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->file, t / "/web-token");
  EXPECT_EQ(ReadAll(w->file), w->token + "\n");
  EXPECT_EQ(ModeOf(w->file), 0600u);
  auto mem = LoadOrCreateWebToken("", "");
  ASSERT_TRUE(mem.ok());
  EXPECT_EQ(mem->file, "");
  EXPECT_NE(mem->token, w->token);
}

TEST(ControlWebToken, AnUnreadableTokenFileIsAnErrorNamingIt) {
  TempDir t;
  auto w = LoadOrCreateWebToken(t / "", "");  // a directory
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("--web-token-file"), std::string::npos) << w.status().message();
}

}  // namespace
}  // namespace ka::control
