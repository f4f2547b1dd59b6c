// libFuzzer target: BottleneckJudge fed whatever a peer could make of its PROGRESS counters (any
// node id, any time, any counter, in any order). Never a crash; a verdict only names a member of
// the judged chain, with a share in [the threshold, 1] over a window of at least the judge's.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "chain/bottleneck.h"

namespace {
template <typename T>
bool Take(const uint8_t*& p, const uint8_t* end, T* out) {
  if (static_cast<size_t>(end - p) < sizeof(T)) return false;
  std::memcpy(out, p, sizeof(T));
  p += sizeof(T);
  return true;
}
void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "bottleneck_fuzz: %s\n", what);
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ka::chain;
  constexpr double kWindow = 2.0, kShare = 0.4;
  BottleneckJudge judge(kWindow, kShare);
  const std::vector<uint64_t> members{1, 2, 3, 4};
  const uint8_t* p = data;
  const uint8_t* end = data + size;
  uint8_t op = 0;
  while (Take(p, end, &op)) {
    uint64_t node = 0;
    if (op % 4 == 3) {  // a judgment now
      double now = 0;
      if (!Take(p, end, &now)) break;
      for (size_t chain = 0; chain < 2; ++chain)
        for (const HoldVerdict& v : judge.Judge(chain, members, now)) {
          Check(v.node >= 1 && v.node <= 4, "a verdict names a node outside the chain");
          Check(v.share >= kShare && v.share <= 1.0, "a verdict's share is out of range");
          Check(v.window >= kWindow, "a verdict over less than the window");
        }
      continue;
    }
    if (op % 4 == 2) {  // forget
      if (!Take(p, end, &node)) break;
      judge.Forget(node % 8);
      continue;
    }
    double t = 0;
    HeldCounters h;
    if (!Take(p, end, &node) || !Take(p, end, &t) || !Take(p, end, &h.output) || !Take(p, end, &h.child) ||
        !Take(p, end, &h.keep))
      break;
    // Ids of the chain's members, of the senders of chains 0 and 1, or anything else.
    uint64_t id = op % 4 == 1 ? BottleneckJudge::SenderOf(node % 2) : node % 8;
    judge.Observe(id, t, h);
  }
  return 0;
}
