#include "util/strings.h"

#include <gtest/gtest.h>

#include "testing/string_cases.h"

namespace ka {
namespace {

TEST(Strings, Trim) {
  testutil::ExpectStringCases(Trim, {{"  a b \t\r\n", "a b"}, {"\t\n ", ""}, {"", ""}, {"x", "x"}});
}

TEST(Strings, Lower) {
  testutil::ExpectStringCases(Lower, {{"UUID=AbC-12", "uuid=abc-12"},
                                      {"\xc3\x89t\xc3\xa9", "\xc3\x89t\xc3\xa9"}});  // non-ASCII bytes unchanged
}

TEST(Strings, UnescapeOctal) {
  testutil::ExpectStringCases(UnescapeOctal,
                              {
                                  {"/mnt/my\\040disk", "/mnt/my disk"},
                                  {"tab\\011x\\13", "tab\tx\\13"},  // an escape needs three digits after it
                                  {"a\\134b", "a\\b"},
                                  {"\\xyz\\9999\\", "\\xyz\\9999\\"},  // not escapes: kept
                                  {"end\\04", "end\\04"},
                              });
}

}  // namespace
}  // namespace ka
