#include "chain/producer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "chain/stream_test_util.h"
#include "crypto/key_file.h"

namespace ka::chain {
namespace {

using testing::Consume;
using testing::MemoryOutput;

class MemorySource : public Source {
 public:
  explicit MemorySource(std::string d) : data_(std::move(d)) {}
  Result<size_t> Read(void* buf, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  Status Finish() override { return Status::Ok(); }
  std::optional<uint64_t> size() const override { return data_.size(); }
  bool rereadable() const override { return true; }
  Status Seek(uint64_t off) override {
    pos_ = std::min<size_t>(off, data_.size());
    return Status::Ok();
  }
  std::string Describe() const override { return "memory"; }
  std::string data_;
  size_t pos_ = 0;
};

// Runs a producer into a large ring and returns every byte it appended.
std::string Produce(Producer& p, Ring& r) {
  std::thread t([&] { p.Run(); });
  t.join();
  std::string wire(r.head() - r.tail(), '\0');
  r.Read(r.tail(), wire.data(), wire.size());
  return wire;
}

std::string Data(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 31 + 7);
  return s;
}

TEST(Producer, SealedStreamOpensAtTheConsumer) {
  if (sodium_init() < 0) abort();
  MemorySource src(Data(100000));
  Ring ring(1 << 20);
  ProducerCrypto pc;
  pc.key = testing::TestKey();
  pc.digest = true;
  Producer p(ring, 77, src, 4096, pc);
  std::string wire = Produce(p, ring);
  ASSERT_TRUE(p.status().ok()) << p.status().ToString();
  EXPECT_EQ(p.bytes(), 100000u);
  MemoryOutput out;
  auto c = testing::PlainCrypto();
  c.chunk_size = 4096;
  c.digest = true;
  auto r = Consume(wire, &out, c, 77, 1 << 20);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(out.data, src.data_);
  EXPECT_EQ(r.digest_hex, p.digest_hex());
  EXPECT_EQ(r.sha256_hex, p.payload_sha256_hex());
  EXPECT_EQ(wire.find(src.data_.substr(5000, 64)), std::string::npos) << "payload is not in clear";
}

TEST(Producer, SignedStreamVerifiesWithTheGoldensKey) {
  if (sodium_init() < 0) abort();
  auto key = crypto::NewSigningKey();
  MemorySource src(Data(10000));
  Ring ring(1 << 20);
  ProducerCrypto pc;
  pc.key = testing::TestKey();
  pc.sign = [key](std::string_view m) { return crypto::Sign(key, m); };
  pc.prepare_hash = crypto::Sha256::Of("manifest");
  Producer p(ring, 77, src, 4096, pc);
  std::string wire = Produce(p, ring);
  MemoryOutput out;
  auto c = testing::PlainCrypto();
  c.chunk_size = 4096;
  c.digest = true;
  c.verify = [pub = key.pub](std::string_view m, std::string_view s) { return crypto::Verify(pub, m, s); };
  c.prepare_hash = [] { return crypto::Sha256::Of("manifest"); };
  auto r = Consume(wire, &out, c, 77, 1 << 20);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_TRUE(r.signature_ok);
}

// A replay (a branch for a late joiner) seals the same frames again; if the
// source changed in between, the second sealing would reuse nonces with other
// bytes: it must stop before anything leaves the sender.
TEST(Producer, ReplayOfAChangedSourceStopsBeforeSealingOtherBytes) {
  if (sodium_init() < 0) abort();
  std::string data = Data(40000);
  TagLog log(40000 / 4096 + 1);
  ProducerCrypto pc;
  pc.key = testing::TestKey();
  pc.tag_log = &log;
  MemorySource src(data);
  Ring ring(1 << 20);
  Producer main(ring, 77, src, 4096, pc);
  std::string wire = Produce(main, ring);
  ASSERT_TRUE(main.status().ok());

  // Same source: the replay from frame 2 is byte-identical to the main stream from there.
  MemorySource same(data);
  uint64_t frame = kHeaderSize + 4096;
  Ring r2(1 << 20, 2 * frame);
  Producer replay(r2, 77, same, 4096, pc);
  replay.ReplayFrom(2, &main);
  std::string w2 = Produce(replay, r2);
  ASSERT_TRUE(replay.status().ok()) << replay.status().ToString();
  EXPECT_EQ(w2, wire.substr(2 * frame));

  // Changed source: refused at the first differing frame.
  std::string changed = data;
  changed[5 * 4096 + 10] ^= 1;
  MemorySource other(changed);
  Ring r3(1 << 20, 2 * frame);
  Producer bad(r3, 77, other, 4096, pc);
  bad.ReplayFrom(2, &main);
  std::string w3 = Produce(bad, r3);
  EXPECT_FALSE(bad.status().ok());
  EXPECT_NE(bad.status().message().find("source changed"), std::string::npos) << bad.status().message();
  // Frames 2, 3, 4 went out identical, then only a STREAM_ABORT.
  EXPECT_EQ(w3.substr(0, 3 * frame), wire.substr(2 * frame, 3 * frame));
  FrameHeader h;
  ASSERT_TRUE(DecodeHeader(reinterpret_cast<const uint8_t*>(w3.data() + 3 * frame), &h).ok());
  EXPECT_EQ(h.type, FrameType::kStreamAbort);
}

}  // namespace
}  // namespace ka::chain
