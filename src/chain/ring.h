// Ring: a bounded window over the data stream, addressed by absolute wire
// position (byte 0 is the first byte of the first frame). One producer appends
// at head(); consumers (the local sink, the child link) hold cursors that the
// producer never overruns. What lies behind every cursor stays readable until
// overwritten: that is the replay window a re-linked child resumes from.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <mutex>

#include "util/anon_memory.h"

namespace ka::chain {

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
  // cannot be protected again.
  int AddCursor(uint64_t pos);
  void MoveCursor(int id, uint64_t pos);
  void RemoveCursor(int id);

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
  void NotifyFdLocked();

  AnonMemory buf_;  // not zero-filled: pages are mapped as data arrives
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t base_ = 0;
  uint64_t head_ = 0;
  std::map<int, uint64_t> cursors_;
  int next_cursor_ = 1;
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
