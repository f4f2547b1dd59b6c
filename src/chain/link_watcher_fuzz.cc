// libFuzzer target: a parent's LinkWatcher fed arbitrary bytes from its child's data link, cut
// anywhere, as a hostile authenticated child (or anyone on the wire) could send them. Never a
// crash, an exception or an unbounded buffer: it opens what is sealed with the link's keys,
// fails the link on anything else, and stays failed.
#include <sodium.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "chain/link_watcher.h"

namespace {
void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "link_watcher_fuzz: %s\n", what);
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ka::chain;
  static bool ready = sodium_init() >= 0;
  Check(ready, "sodium_init");
  HandshakeKeys keys;
  keys.client_send.fill(1);
  keys.server_send.fill(2);
  // The first byte says where to cut the input into pieces; valid beats sealed with the link's
  // keys lead, so the fuzzer also reaches what follows a frame that opened.
  size_t cut = size > 0 ? 1 + data[0] % 64 : 1;
  SecureChannel child(ka::UniqueFd(), keys, SecureChannel::Side::kClient);
  LinkWatcher w(3, "fuzz", std::make_unique<SecureChannel>(ka::UniqueFd(), keys, SecureChannel::Side::kServer), 1.5, 4);
  std::string input;
  for (int i = 0; i < 2; ++i) {
    LinkBeat b;
    b.received = b.least = 1000u * static_cast<uint64_t>(i);
    input += child.Seal(FrameType::kProgress, b.ToJson()).value();
  }
  if (size > 1) input.append(reinterpret_cast<const char*>(data + 1), size - 1);
  bool failed = false;
  auto now = LinkWatcher::Clock::now();
  for (size_t off = 0; off < input.size(); off += cut) {
    size_t n = std::min(cut, input.size() - off);
    ka::Status s = w.Feed(reinterpret_cast<const uint8_t*>(input.data() + off), n, now);
    if (failed) Check(!s.ok(), "a failed link opened a frame again");
    if (!s.ok()) {
      Check(!s.message().empty(), "a failure without a reason");
      failed = true;
    }
  }
  if (auto b = w.beat()) Check(b->least <= b->received, "a beat past its own position");
  return 0;
}
