#include "control/dashboard_page.h"

#include <gtest/gtest.h>

#include <string>

namespace ka::control {
namespace {

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

TEST(DashboardPage, InlinesTheStyleSheetAndTheScriptOnce) {
  const std::string page = DashboardPage();
  EXPECT_EQ(page.rfind("<!doctype html>\n", 0), 0u);
  EXPECT_EQ(Count(page, "<style>" + std::string(DashboardStyle()) + "</style>"), 1u);
  EXPECT_EQ(Count(page, "<script>" + std::string(DashboardScript()) + "</script>"), 1u);
  EXPECT_EQ(Count(page, "<style>"), 1u);
  EXPECT_EQ(Count(page, "<script>"), 1u);
  // the files' contents on lines of their own
  EXPECT_EQ(DashboardStyle().front(), '\n');
  EXPECT_EQ(DashboardScript().front(), '\n');
  EXPECT_NE(DashboardStyle().find(":root {"), std::string::npos);
  EXPECT_NE(DashboardScript().find("'use strict';"), std::string::npos);
  EXPECT_EQ(page.substr(page.size() - 16), "</body>\n</html>\n");
}

}  // namespace
}  // namespace ka::control
