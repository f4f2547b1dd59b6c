#include "util/anon_memory.h"

#include <gtest/gtest.h>

#include <cstring>

namespace ka {
namespace {

TEST(AnonMemory, ReadsZeroAndKeepsWrites) {
  AnonMemory m(8 << 20);
  ASSERT_NE(m.data(), nullptr);
  EXPECT_EQ(m.size(), 8u << 20);
  EXPECT_EQ(m.data()[0], 0);
  EXPECT_EQ(m.data()[m.size() - 1], 0);
  std::memset(m.data() + 4096, 0xab, 100);
  EXPECT_EQ(m.data()[4096 + 99], 0xab);
}

TEST(AnonMemory, ZeroSizeHasNoData) {
  AnonMemory m(0);
  EXPECT_EQ(m.data(), nullptr);
  EXPECT_EQ(m.size(), 0u);
}

}  // namespace
}  // namespace ka
