#include "chain/digest.h"

#include <gtest/gtest.h>

#include <cstring>

#include "util/units.h"

namespace ka::chain {
namespace {

std::string Digest(DigestMode mode, const std::vector<std::string>& chunks) {
  if (sodium_init() < 0) abort();
  StreamDigest d(mode);
  uint64_t off = 0;
  for (const auto& c : chunks) {
    std::string f = EncodeFrame(FrameType::kData, 5, off, c);
    d.AddFrame(reinterpret_cast<const uint8_t*>(f.data()), c);
    off += c.size();
  }
  uint8_t out[kDigestSize];
  d.Final(out);
  return ToHex(out, sizeof out);
}

TEST(StreamDigest, FullModeIsPlainBlake2b256OfTheBytes) {
  // Same as `printf 'hello chain world' | b2sum -l 256`, whatever the framing.
  unsigned char want[32];
  std::string all = "hello chain world";
  crypto_generichash(want, 32, reinterpret_cast<const unsigned char*>(all.data()), all.size(), nullptr, 0);
  EXPECT_EQ(Digest(DigestMode::kFull, {"hello ", "chain ", "world"}), ToHex(want, 32));
  EXPECT_EQ(Digest(DigestMode::kFull, {"hello chain world"}), ToHex(want, 32));
  EXPECT_EQ(Digest(DigestMode::kFull, {}).size(), 64u);
}

TEST(StreamDigest, FramesModeDependsOnContentAndOrder) {
  std::string a = Digest(DigestMode::kFrames, {"abc", "def"});
  EXPECT_EQ(a, Digest(DigestMode::kFrames, {"abc", "def"}));
  EXPECT_NE(a, Digest(DigestMode::kFrames, {"abc", "deF"}));
  EXPECT_NE(a, Digest(DigestMode::kFrames, {"def", "abc"}));
  EXPECT_NE(a, Digest(DigestMode::kFrames, {"abc"}));
  EXPECT_NE(a, Digest(DigestMode::kFull, {"abc", "def"}));
}

TEST(StreamDigest, ParseModes) {
  EXPECT_EQ(ParseDigestMode("full").value(), DigestMode::kFull);
  EXPECT_EQ(ParseDigestMode("frames").value(), DigestMode::kFrames);
  EXPECT_FALSE(ParseDigestMode("sha1").ok());
}

}  // namespace
}  // namespace ka::chain
