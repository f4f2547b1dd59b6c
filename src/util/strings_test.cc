#include "util/strings.h"

#include <gtest/gtest.h>

namespace ka {
namespace {

TEST(Strings, Trim) {
  EXPECT_EQ(Trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(Trim("\t\n "), "");
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim("x"), "x");
}

TEST(Strings, Lower) {
  EXPECT_EQ(Lower("UUID=AbC-12"), "uuid=abc-12");
  EXPECT_EQ(Lower("\xc3\x89t\xc3\xa9"), "\xc3\x89t\xc3\xa9");  // non-ASCII bytes unchanged
}

TEST(Strings, UnescapeOctal) {
  EXPECT_EQ(UnescapeOctal("/mnt/my\\040disk"), "/mnt/my disk");
  EXPECT_EQ(UnescapeOctal("tab\\011x\\13"), "tab\tx\\13");  // an escape needs three digits after it
  EXPECT_EQ(UnescapeOctal("a\\134b"), "a\\b");
  EXPECT_EQ(UnescapeOctal("\\xyz\\9999\\"), "\\xyz\\9999\\");  // not escapes: kept
  EXPECT_EQ(UnescapeOctal("end\\04"), "end\\04");
}

}  // namespace
}  // namespace ka
