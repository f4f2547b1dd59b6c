// Who holds a chain back. Every member counts the time its ring was full while its upstream had
// more for it, by what held the ring's tail then: its own output (the local write), its child, or
// the window kept for the node after its child (chain/ring.h HeldSeconds, sent in PROGRESS:
// docs/protocol.md §6). The sender counts the same on its own ring for each chain's head. From
// those counters, over a sliding window:
//   - a member whose own output held its ring most of the time writes slower than the chain
//     brings the data (its disk): the whole chain goes at its pace;
//   - a member whose parent waited on it most of the time while its own ring had room receives
//     slower than its parent sends (its link, or its CPU).
// A member held up by someone after it is never blamed: its own ring is full, and the verdict goes
// further down, to the member whose ring has room. Pure logic, no clock: times are passed in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <vector>

namespace ka::chain {

struct HeldCounters {  // seconds so far
  double output = 0, child = 0, keep = 0;
};

enum class HoldCause { kOutput, kLink };
const char* HoldCauseName(HoldCause c);  // "output", "link"

struct HoldVerdict {
  uint64_t node = 0;
  HoldCause cause = HoldCause::kOutput;
  double share = 0;   // the part of the window its chain waited on it, 0..1
  double window = 0;  // the seconds that share is over
};

class BottleneckJudge {
 public:
  // A verdict needs a share of at least `share` over at least `window_s` seconds. 5 s: a re-linked
  // child's catch-up after a freeze (about the detection, 1.5 s) stays below 40 % of it. 40 %: on
  // the bed a node on a 50 Mbit/s link among unshaped ones held its parent 76-78 % of the time, a
  // node's output that read nothing for 6 s its ring most of it, and the members of a healthy
  // chain at 100 Mbit/s were held less than 1 % (tests/system/slow_consumer.sh).
  explicit BottleneckJudge(double window_s = 5.0, double share = 0.4);

  // A member's counters at time t (seconds, any origin), as its PROGRESS came; the sender's own
  // ring observes for each chain c as node SenderOf(c), with only `child` set. Counters that go
  // back, or times that do not go forward, start the node's history again (a peer's numbers are
  // not trusted to be consistent).
  void Observe(uint64_t node, double t, const HeldCounters& held);
  void Forget(uint64_t node);
  static uint64_t SenderOf(size_t chain);

  // One chain (its members' node ids, head first; the sender is before the head) at time `now`:
  // the members that hold it back. Members with too little history, or whose last report is
  // stale, get no verdict.
  std::vector<HoldVerdict> Judge(size_t chain, const std::vector<uint64_t>& members, double now) const;

 private:
  struct Share {
    bool known = false;
    double output = 0, child = 0, keep = 0, window = 0;
  };
  struct Sample {
    double t = 0;
    HeldCounters held;
  };
  Share ShareOf(uint64_t node, double now) const;

  double window_s_, share_;
  std::map<uint64_t, std::deque<Sample>> samples_;
};

}  // namespace ka::chain
