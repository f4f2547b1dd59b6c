// Test helpers (unit tests only): sealed data streams built frame by frame
// with the real FrameSealer, and an in-memory Output, so that consumer and
// producer tests can tamper with exact bytes.
#pragma once

#include <gtest/gtest.h>
#include <sodium.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "chain/consumer.h"
#include "chain/output.h"
#include "chain/ring.h"
#include "chain/stream_seal.h"
#include "crypto/sha256.h"

namespace ka::chain::testing {

// Compares without printing megabytes of binary on failure.
inline ::testing::AssertionResult Same(const std::string& got, const std::string& want) {
  if (got == want) return ::testing::AssertionSuccess();
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  return ::testing::AssertionFailure() << "got " << got.size() << " bytes, want " << want.size()
                                       << ", first difference at byte " << i;
}

class MemoryOutput : public Output {
 public:
  Status Write(const void* d, size_t n) override {
    if (fail_after >= 0 && static_cast<long>(data.size() + n) > fail_after) return Status::Io("disk full");
    data.append(static_cast<const char*>(d), n);
    return Status::Ok();
  }
  Status Close(bool complete) override {
    closed = true;
    finished_complete = complete;
    return Status::Ok();
  }
  void Discard(const std::string& why) override { discarded = why; }
  std::string Describe() const override { return "memory"; }
  std::string data;
  long fail_after = -1;
  bool closed = false;
  bool finished_complete = false;
  std::string discarded;
};

inline DataKey TestKey(uint8_t fill = 7, crypto::Cipher c = crypto::Cipher::kAes256Gcm) {
  DataKey k;
  k.cipher = c;
  k.key.fill(fill);
  return k;
}

struct StreamSpec {
  uint64_t session_id = 77;
  DataKey key = TestKey();
  bool digest = false;
  std::function<std::string(std::string_view)> sign;
  std::array<uint8_t, 32> prepare_hash = crypto::Sha256::Of("");
};

// One sealed frame per chunk, then END. `frames` receives each frame's bytes.
inline std::string SealedStream(const StreamSpec& spec, const std::vector<std::string>& chunks,
                                std::vector<std::string>* frames = nullptr, EndRecord* end_out = nullptr) {
  auto sealer = FrameSealer::Create(spec.key, spec.session_id);
  TagChain chain;
  crypto::Sha256 sha;
  std::string out;
  uint64_t off = 0;
  for (const auto& c : chunks) {
    std::string f(kHeaderSize + c.size(), '\0');
    std::memcpy(f.data() + kHeaderSize, c.data(), c.size());
    auto* p = reinterpret_cast<uint8_t*>(f.data());
    (*sealer)->SealData(off, p, c.size());
    chain.Add(p + kTagOffset);
    sha.Update(c.data(), c.size());
    off += c.size();
    if (frames) frames->push_back(f);
    out += f;
  }
  EndRecord end;
  end.total = off;
  end.tag_chain = chain.Final();
  if (spec.digest || spec.sign) {
    end.flags |= EndRecord::kHasDigest;
    end.digest = sha.Final();
  }
  if (spec.sign) {
    std::string sig = spec.sign(StreamSignedMessage(spec.session_id, spec.prepare_hash, end.total, end.digest));
    std::memcpy(end.signature.data(), sig.data(), 64);
    end.flags |= EndRecord::kHasSignature;
  }
  if (end_out) *end_out = end;
  std::string e = (*sealer)->SealEnd(end);
  if (frames) frames->push_back(e);
  return out + e;
}

// Feeds `wire` to a Consumer through a Ring of `ring` bytes; once all of it is
// in, the upstream counts as gone, so an incomplete stream fails instead of waiting.
inline ConsumeResult Consume(const std::string& wire, MemoryOutput* out, ConsumerCrypto crypto,
                             uint64_t session_id = 77, size_t ring = 1 << 16) {
  if (sodium_init() < 0) abort();
  Ring r(ring);
  if (crypto.chunk_size == 0) crypto.chunk_size = 1 << 20;
  std::atomic<bool> all_in{false};
  Consumer c(r, session_id, crypto, out, [&] { return all_in.load(); });
  std::thread t([&] { c.Run(); });
  size_t done = 0;
  while (done < wire.size()) {
    r.WaitFree(1);
    done += r.WriteSome(wire.data() + done, wire.size() - done);
    if (c.finished()) break;
  }
  all_in = true;
  r.Wake();
  t.join();
  return c.result();
}

inline ConsumerCrypto PlainCrypto(const DataKey& key = TestKey()) {
  ConsumerCrypto c;
  c.key = key;
  return c;
}

}  // namespace ka::chain::testing
