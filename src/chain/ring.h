// Ring: a bounded window over the data stream, addressed by absolute wire
// position (byte 0 is the first byte of the first frame). One producer appends
// at head(); consumers (the local sink, the child link) hold cursors that the
// producer never overruns. What lies behind every cursor stays readable until
// overwritten: that is the replay window a re-linked child resumes from.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>

#include "util/anon_memory.h"

namespace ka::chain {

// Cursor tags (Ring::HeldSeconds): what a cursor of a node's ring stands for, so that the node can
// say what held its stream back (docs/protocol.md §6, PROGRESS).
inline constexpr int kHeldByOutput = 1;    // the local output (the consumer: disk, file, pipe)
inline constexpr int kHeldByChild = 2;     // the child's link (its cursor, and the start kept for it)
inline constexpr int kHeldByKeep = 3;      // the replay window kept for the node after the child
inline constexpr int kHeldByChain0 = 100;  // the sender's ring: chain c's head is kHeldByChain0 + c

class Ring {
 public:
  // `base`: the position of the first byte this ring will hold (a ring that
  // serves a stream from its middle starts there).
  explicit Ring(size_t capacity, uint64_t base = 0);

  size_t capacity() const { return buf_.size(); }
  uint64_t head() const;
  // Oldest position still held.
  uint64_t tail() const;
  bool Holds(uint64_t pos) const;

  // Producer: bytes that can be appended now without overrunning a cursor, and
  // the contiguous writable region at head (at most `max` bytes).
  size_t Free() const;
  uint8_t* WritePtr(size_t* contiguous);
  void Commit(size_t n);
  // Copies what fits contiguously at head (up to n bytes) and commits it: the count.
  size_t WriteSome(const void* data, size_t n);
  // Blocks until Free() >= want or Close(); false if closed.
  bool WaitFree(size_t want);

  // Copies [pos, pos+n) out; the range must be held.
  void Read(uint64_t pos, void* dst, size_t n) const;
  // Contiguous readable bytes at pos (pointer into the ring, up to head or the wrap).
  const uint8_t* ReadPtr(uint64_t pos, size_t* contiguous) const;
  // Blocks until head() >= pos or Close(); returns head().
  uint64_t WaitHead(uint64_t pos);
  uint64_t WaitHeadFor(uint64_t pos, int timeout_ms);

  // Cursors. AddCursor returns -1 if pos is no longer held (below tail()).
  // MoveCursor never moves a cursor below tail(): bytes already overwritten
  // cannot be protected again. A cursor may carry a tag > 0 (what it stands
  // for: the local output, the child link...; see HeldSeconds).
  int AddCursor(uint64_t pos, int tag = 0);
  void MoveCursor(int id, uint64_t pos);
  void RemoveCursor(int id);

  // Who holds the stream back. The producer says when it has data to append
  // (SetWanting; WaitFree says so itself while it waits). While it does and the
  // ring is full, the time counts for the tag of the cursor at the tail (the
  // least tag when several are there, so that the tags never add up to more
  // than the time held): HeldSeconds(tag) is the total so far.
  void SetWanting(bool wanting);
  double HeldSeconds(int tag) const;

  // Wakes every waiter for good (end of session or abort).
  void Close();
  bool closed() const;
  // Wakes every waiter once so it re-checks outside conditions.
  void Wake();

  // For poll loops: each loop takes its own notifier, an eventfd that becomes
  // readable at the next Commit, cursor move, Wake or Close after
  // ArmNotify(id). Waiters are only woken when their condition may hold, so a
  // busy stream costs no extra wake-ups; several loops on one ring (the
  // sender's relays, one per chain) never take each other's wake-up.
  // AddNotifier returns -1 if no eventfd could be made (the loop then polls).
  int AddNotifier();
  void RemoveNotifier(int id);
  int notify_fd(int id) const;
  void ArmNotify(int id);
  void DrainNotify(int id);

  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

 private:
  uint64_t MinCursorLocked() const;
  uint64_t TailLocked() const;
  size_t FreeLocked() const;
  // Around every change of head, cursors or wanting: credit the time since the
  // last change to the cursors that held the tail, then note the new state.
  void HeldBeforeLocked();
  void HeldAfterLocked();
  int TailTagLocked() const;
  void NotifyFdLocked();

  AnonMemory buf_;  // not zero-filled: pages are mapped as data arrives
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t base_ = 0;
  uint64_t head_ = 0;
  std::map<int, uint64_t> cursors_;
  std::map<int, int> cursor_tags_;  // the tagged cursors' tags
  int next_cursor_ = 1;
  // Held time (HeldSeconds): the producer wants to append, the ring is full.
  bool wanting_ = false, holding_ = false;
  std::chrono::steady_clock::time_point held_since_{};
  std::map<int, double> held_;  // by tag
  bool closed_ = false;
  struct Notifier {
    int fd = -1;
    bool armed = false;
  };
  std::map<int, Notifier> notifiers_;
  int next_notifier_ = 0;
  std::multiset<uint64_t> head_waits_;  // positions waiters need head to reach
  std::multiset<size_t> free_waits_;    // free space waiters need
};

}  // namespace ka::chain
