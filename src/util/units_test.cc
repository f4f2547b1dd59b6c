#include "util/units.h"

#include <gtest/gtest.h>

namespace ka {
namespace {

TEST(Units, SizesWithBinarySuffixes) {
  EXPECT_EQ(ParseSize("4096").value(), 4096u);
  EXPECT_EQ(ParseSize("64MiB").value(), 64ull << 20);
  EXPECT_EQ(ParseSize("1G").value(), 1ull << 30);
  EXPECT_EQ(ParseSize("16k").value(), 16ull << 10);
  for (const char* bad : {"", "M", "1T", "1.5G", "-1", "1 G"}) EXPECT_FALSE(ParseSize(bad).ok()) << bad;
}

TEST(Units, RatesInTcSyntax) {
  EXPECT_DOUBLE_EQ(ParseRate("100mbit").value(), 1e8);
  EXPECT_DOUBLE_EQ(ParseRate("1gbit").value(), 1e9);
  EXPECT_DOUBLE_EQ(ParseRate("10gbit").value(), 1e10);
  EXPECT_DOUBLE_EQ(ParseRate("2.5gbit").value(), 2.5e9);
  EXPECT_DOUBLE_EQ(ParseRate("10GBit").value(), 1e10);
  EXPECT_DOUBLE_EQ(ParseRate("500kbit").value(), 5e5);
  EXPECT_DOUBLE_EQ(ParseRate("1000000").value(), 1e6);
  for (const char* bad : {"", "fast", "1gbps", "10g", "-1gbit", "0", "gbit", "1 gbit"})
    EXPECT_FALSE(ParseRate(bad).ok()) << bad;
}

TEST(Units, LeadingNumberLeavesTheRest) {
  double v = 0;
  std::string rest;
  ASSERT_TRUE(ParseLeadingNumber("2.5gbit", &v, &rest));
  EXPECT_DOUBLE_EQ(v, 2.5);
  EXPECT_EQ(rest, "gbit");
  ASSERT_TRUE(ParseLeadingNumber(".5", &v, &rest));
  EXPECT_DOUBLE_EQ(v, 0.5);
  EXPECT_EQ(rest, "");
  EXPECT_FALSE(ParseLeadingNumber("-1", &v, &rest));
  EXPECT_FALSE(ParseLeadingNumber(" 1", &v, &rest));
  EXPECT_FALSE(ParseLeadingNumber("", &v, &rest));
}

TEST(Units, FormatBytes) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(256ull << 20), "256.0 MiB");
}

}  // namespace
}  // namespace ka
