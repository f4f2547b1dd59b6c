#include "crypto/sha256.h"

#include <gtest/gtest.h>

#include "util/units.h"

namespace ka::crypto {
namespace {

std::string Hex(const std::array<uint8_t, 32>& d) { return ToHex(d.data(), d.size()); }

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(Hex(Sha256::Of("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256::Of("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  std::string data(100000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  Sha256 h;
  for (size_t i = 0; i < data.size(); i += 333) h.Update(data.data() + i, std::min<size_t>(333, data.size() - i));
  EXPECT_EQ(Hex(h.Final()), Hex(Sha256::Of(data)));
}

}  // namespace
}  // namespace ka::crypto
