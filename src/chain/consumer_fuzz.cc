// libFuzzer target: the data stream a node receives (chain/consumer) on
// arbitrary bytes, under a fixed session key (0x42 x 32, session id 77; the
// input's first byte picks the cipher (bit 0: ChaCha20-Poly1305) and whether a
// payload digest is announced (bit 1), the rest is the stream): headers, sealed frames, END
// records, aborts, truncation. Never a crash or a hang; the seed corpus holds
// genuine streams sealed under that key, so mutations reach END and beyond.
// Whatever passes as complete wrote exactly the bytes the consumer verified.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "chain/consumer.h"

namespace {
class NullOutput : public ka::chain::Output {
 public:
  ka::Status Write(const void*, size_t n) override {
    bytes += n;
    return ka::Status::Ok();
  }
  ka::Status Close(bool c) override {
    complete = c;
    return ka::Status::Ok();
  }
  std::string Describe() const override { return "null"; }
  size_t bytes = 0;
  bool complete = false;
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ka::chain;
  Ring ring(1 << 20);
  ConsumerCrypto c;
  if (size < 1) return 0;
  c.key.cipher = (data[0] & 1) ? ka::crypto::Cipher::kChaCha20Poly1305 : ka::crypto::Cipher::kAes256Gcm;
  c.key.key.fill(0x42);
  c.chunk_size = 65536;
  c.digest = (data[0] & 2) != 0;
  ++data;
  --size;
  NullOutput out;
  {
    Consumer consumer(ring, 77, c, &out, [] { return true; });
    ring.WriteSome(data, std::min(size, ring.capacity()));
    consumer.Run();
    auto r = consumer.result();
    if (out.complete && (!r.status.ok() || out.bytes != r.bytes)) {
      std::fprintf(stderr, "consumer_fuzz: a complete output that does not match what was verified\n");
      std::abort();
    }
  }
  return 0;
}
