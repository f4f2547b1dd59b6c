#include "chain/consumer.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>

#include "util/units.h"

namespace ka::chain {
namespace {

class MemoryOutput : public Output {
 public:
  Status Write(const void* d, size_t n) override {
    if (fail_after >= 0 && static_cast<long>(data.size() + n) > fail_after) return Status::Io("disk full");
    data.append(static_cast<const char*>(d), n);
    return Status::Ok();
  }
  Status Close(bool complete) override {
    finished_complete = complete;
    return Status::Ok();
  }
  std::string Describe() const override { return "memory"; }
  std::string data;
  long fail_after = -1;
  bool finished_complete = false;
};

std::string Stream(uint64_t sid, const std::vector<std::string>& chunks, bool good_digest = true) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, kDigestSize);
  std::string out;
  uint64_t off = 0;
  for (auto& c : chunks) {
    out += EncodeFrame(FrameType::kData, sid, off, c);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(c.data()), c.size());
    off += c.size();
  }
  uint8_t d[kDigestSize];
  crypto_generichash_final(&st, d, kDigestSize);
  if (!good_digest) d[0] ^= 1;
  out += EncodeFrame(FrameType::kEnd, sid, off, EncodeEndPayload(off, d));
  return out;
}

ConsumeResult Consume(const std::string& wire, MemoryOutput* out, size_t ring = 1 << 16) {
  if (sodium_init() < 0) abort();
  Ring r(ring);
  Consumer c(r, 77, DigestMode::kFull, out, [] { return true; });  // everything is already there
  std::thread t([&] { c.Run(); });
  size_t done = 0;
  while (done < wire.size()) {
    r.WaitFree(1);
    size_t cont = 0;
    uint8_t* p = r.WritePtr(&cont);
    size_t k = std::min(cont, wire.size() - done);
    std::memcpy(p, wire.data() + done, k);
    r.Commit(k);
    done += k;
    if (c.finished()) break;
  }
  t.join();
  return c.result();
}

TEST(Consumer, VerifiesAndWritesAGoodStream) {
  MemoryOutput out;
  auto r = Consume(Stream(77, {"hello ", "chain ", "world"}), &out);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(out.data, "hello chain world");
  EXPECT_EQ(r.bytes, 17u);
  EXPECT_TRUE(out.finished_complete);
}

TEST(Consumer, EmptyStream) {
  MemoryOutput out;
  auto r = Consume(Stream(77, {}), &out);
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.bytes, 0u);
}

TEST(Consumer, FramesWrapAroundTheRing) {
  MemoryOutput out;
  std::vector<std::string> chunks;
  std::string all;
  for (int i = 0; i < 50; ++i) {
    chunks.push_back(std::string(1000 + i, static_cast<char>('a' + i % 26)));
    all += chunks.back();
  }
  auto r = Consume(Stream(77, chunks), &out, 3000);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(out.data, all);
}

TEST(Consumer, FrameFromAnotherSessionIsNamed) {
  MemoryOutput out;
  auto r = Consume(Stream(78, {"abc"}), &out);
  EXPECT_EQ(r.status.code(), Status::Code::kCorruption);
  EXPECT_NE(r.status.message().find("another session"), std::string::npos);
  EXPECT_FALSE(out.finished_complete);
}

TEST(Consumer, FlippedPayloadByteIsCorruption) {
  MemoryOutput out;
  std::string w = Stream(77, {"abcdef", "ghijkl"});
  w[kHeaderSize + 2] ^= 0x01;
  auto r = Consume(w, &out);
  EXPECT_EQ(r.status.code(), Status::Code::kCorruption);
  EXPECT_NE(r.status.message().find("checksum"), std::string::npos);
}

TEST(Consumer, MissingFrameIsOutOfOrder) {
  MemoryOutput out;
  std::string a = EncodeFrame(FrameType::kData, 77, 0, "abc");
  std::string c = EncodeFrame(FrameType::kData, 77, 6, "ghi");
  auto r = Consume(a + c, &out);
  EXPECT_EQ(r.status.code(), Status::Code::kCorruption);
  EXPECT_NE(r.status.message().find("out of order"), std::string::npos);
}

TEST(Consumer, DigestMismatchIsCaught) {
  MemoryOutput out;
  auto r = Consume(Stream(77, {"abc"}, /*good_digest=*/false), &out);
  EXPECT_EQ(r.status.code(), Status::Code::kCorruption);
  EXPECT_NE(r.status.message().find("digest"), std::string::npos);
  EXPECT_FALSE(out.finished_complete);
}

TEST(Consumer, TruncatedStreamFailsInsteadOfHanging) {
  MemoryOutput out;
  std::string w = Stream(77, {"abcdef"});
  auto r = Consume(w.substr(0, w.size() - 10), &out);
  EXPECT_EQ(r.status.code(), Status::Code::kClosed);
  EXPECT_FALSE(out.finished_complete);
}

TEST(Consumer, SenderAbortIsReported) {
  MemoryOutput out;
  std::string w = EncodeFrame(FrameType::kData, 77, 0, "abc") +
                  EncodeFrame(FrameType::kStreamAbort, 77, 3, "source command exited with status 2");
  auto r = Consume(w, &out);
  EXPECT_NE(r.status.message().find("aborted"), std::string::npos);
}

TEST(Consumer, OutputFailureStillVerifiesTheWholeStream) {
  MemoryOutput out;
  out.fail_after = 4;
  auto r = Consume(Stream(77, {"abc", "def", "ghi"}), &out);
  EXPECT_EQ(r.status.code(), Status::Code::kIo);
  EXPECT_EQ(r.bytes, 9u);  // kept going so the node could keep relaying
  EXPECT_FALSE(out.finished_complete);
}

}  // namespace
}  // namespace ka::chain
