#include "chain/ring.h"

#include <poll.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <numeric>
#include <thread>
#include <vector>

namespace ka::chain {
namespace {

// Appends s, which must fit: WriteSome copies up to the wrap, then from the start.
void Append(Ring& r, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    size_t k = r.WriteSome(s.data() + done, s.size() - done);
    ASSERT_GT(k, 0u) << "the ring is full";
    done += k;
  }
}

std::string ReadAt(const Ring& r, uint64_t pos, size_t n) {
  std::string s(n, '\0');
  r.Read(pos, s.data(), n);
  return s;
}

TEST(Ring, AppendAndReadAcrossWrap) {
  Ring r(10);
  int c = r.AddCursor(0);
  Append(r, "abcdefgh");
  r.MoveCursor(c, 6);
  EXPECT_EQ(r.Free(), 8u);
  Append(r, "ijklmn");  // wraps
  EXPECT_EQ(r.head(), 14u);
  EXPECT_EQ(r.tail(), 4u);
  EXPECT_EQ(ReadAt(r, 6, 8), "ghijklmn");
  size_t contiguous = 0;
  r.ReadPtr(6, &contiguous);
  EXPECT_EQ(contiguous, 4u);  // "ghij" up to the physical end
}

TEST(Ring, CursorsAreNeverOverrun) {
  Ring r(8);
  int slow = r.AddCursor(0);
  int fast = r.AddCursor(0);
  Append(r, "12345678");
  r.MoveCursor(fast, 8);
  EXPECT_EQ(r.Free(), 0u);  // the slow cursor still needs everything
  r.MoveCursor(slow, 3);
  EXPECT_EQ(r.Free(), 3u);
  r.RemoveCursor(slow);
  EXPECT_EQ(r.Free(), 8u);
}

TEST(Ring, ReplayWindowHoldsWhatWasNotOverwritten) {
  Ring r(16);
  Append(r, std::string(40, 'x'));  // no cursors: free-running
  EXPECT_EQ(r.tail(), 24u);
  EXPECT_TRUE(r.Holds(24));
  EXPECT_TRUE(r.Holds(40));
  EXPECT_FALSE(r.Holds(23));
  EXPECT_FALSE(r.Holds(41));
}

TEST(Ring, ProducerConsumerThreads) {
  Ring r(1000);
  int c = r.AddCursor(0);
  const uint64_t total = 1 << 20;
  std::thread producer([&] {
    uint64_t written = 0;
    while (written < total) {
      ASSERT_TRUE(r.WaitFree(1));
      size_t cont = 0;
      uint8_t* p = r.WritePtr(&cont);
      size_t k = std::min<uint64_t>(cont, total - written);
      for (size_t i = 0; i < k; ++i) p[i] = static_cast<uint8_t>((written + i) * 7);
      r.Commit(k);
      written += k;
    }
  });
  uint64_t pos = 0;
  bool ok = true;
  while (pos < total) {
    r.WaitHead(pos + 1);
    size_t cont = 0;
    const uint8_t* p = r.ReadPtr(pos, &cont);
    for (size_t i = 0; i < cont; ++i) ok &= p[i] == static_cast<uint8_t>((pos + i) * 7);
    pos += cont;
    r.MoveCursor(c, pos);
  }
  producer.join();
  EXPECT_TRUE(ok);
}

TEST(Ring, CloseWakesWaiters) {
  Ring r(4);
  int c = r.AddCursor(0);
  Append(r, "abcd");
  std::thread t([&] { EXPECT_FALSE(r.WaitFree(1)); });
  std::thread u([&] { r.WaitHead(100); });
  r.Close();
  t.join();
  u.join();
  r.RemoveCursor(c);
}

}  // namespace
}  // namespace ka::chain

namespace ka::chain {
namespace {

TEST(Ring, CursorsCannotReachBackIntoOverwrittenBytes) {
  Ring r(8);
  int c = r.AddCursor(0);
  Append(r, "12345678");
  r.MoveCursor(c, 8);
  Append(r, "abcdefgh");  // positions 0..7 are overwritten now
  EXPECT_EQ(r.AddCursor(3), -1);
  r.MoveCursor(c, 2);  // a late, lower "keep" must not resurrect old bytes...
  EXPECT_EQ(r.Free(), 0u);  // ...it clamps to the tail (8): nothing free, and no underflow
  r.MoveCursor(c, 12);
  EXPECT_EQ(r.Free(), 4u);
}

// Two poll loops on one ring (the sender's relays) each get their own wake-up.
TEST(Ring, EveryArmedNotifierIsWokenOnce) {
  Ring r(1024);
  int a = r.AddNotifier(), b = r.AddNotifier();
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  ASSERT_NE(r.notify_fd(a), r.notify_fd(b));
  auto readable = [&](int id) {
    pollfd p{r.notify_fd(id), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  };
  r.ArmNotify(a);
  r.ArmNotify(b);
  char x[10] = {};
  r.WriteSome(x, sizeof x);
  EXPECT_TRUE(readable(a));
  EXPECT_TRUE(readable(b));
  r.DrainNotify(a);
  EXPECT_FALSE(readable(a));
  EXPECT_TRUE(readable(b));  // a's drain did not take b's wake-up
  r.DrainNotify(b);
  r.WriteSome(x, sizeof x);  // not armed: no wake-up
  EXPECT_FALSE(readable(a));
  EXPECT_FALSE(readable(b));
  r.RemoveNotifier(a);
  EXPECT_EQ(r.notify_fd(a), -1);
}

// Who held the stream back: the time the producer wanted to append into a full ring, credited to
// the tag of the cursor(s) at the tail. Untagged cursors, a ring with room, or a producer with
// nothing to append count nothing.
TEST(Ring, HeldTimeGoesToTheCursorAtTheTail) {
  using std::chrono::milliseconds;
  Ring r(1000);
  int out = r.AddCursor(0, kHeldByOutput);
  int child = r.AddCursor(0, kHeldByChild);
  std::vector<char> x(1000);
  ASSERT_EQ(r.WriteSome(x.data(), x.size()), 1000u);  // full
  std::this_thread::sleep_for(milliseconds(30));      // not wanting yet
  EXPECT_EQ(r.HeldSeconds(kHeldByOutput), 0);
  r.SetWanting(true);
  std::this_thread::sleep_for(milliseconds(30));  // both at the tail: the least tag holds
  double o1 = r.HeldSeconds(kHeldByOutput), c1 = r.HeldSeconds(kHeldByChild);
  EXPECT_GE(o1, 0.03);
  EXPECT_EQ(c1, 0);
  r.MoveCursor(out, 500);  // the output went on; the child holds the tail alone
  std::this_thread::sleep_for(milliseconds(30));
  double o2 = r.HeldSeconds(kHeldByOutput), c2 = r.HeldSeconds(kHeldByChild);
  EXPECT_LT(o2 - o1, 0.02);  // at most the moment between the reading and the move
  EXPECT_GE(c2 - c1, 0.03);
  r.MoveCursor(child, 600);  // room now: nobody holds
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_LT(r.HeldSeconds(kHeldByChild) - c2, 0.02);
  EXPECT_EQ(r.HeldSeconds(kHeldByKeep), 0);
  // The window for the node after the child holds the tail: it counts while the child is behind,
  // not once the child has everything (then the window only waits for the child's next beat).
  {
    Ring k(1000);
    int keep = k.AddCursor(0, kHeldByKeep);
    int kid = k.AddCursor(0, kHeldByChild);
    ASSERT_EQ(k.WriteSome(x.data(), 1000), 1000u);
    k.MoveCursor(kid, 600);
    k.SetWanting(true);
    std::this_thread::sleep_for(milliseconds(30));
    double w1 = k.HeldSeconds(kHeldByKeep);
    EXPECT_GE(w1, 0.03);
    k.MoveCursor(kid, 1000);  // the child has everything
    std::this_thread::sleep_for(milliseconds(30));
    EXPECT_LT(k.HeldSeconds(kHeldByKeep) - w1, 0.02);
    EXPECT_EQ(k.HeldSeconds(kHeldByChild), 0);
    k.RemoveCursor(keep);
  }
  // Full again, then the producer has nothing more: not held.
  ASSERT_EQ(r.WriteSome(x.data(), 500), 500u);
  double o3 = r.HeldSeconds(kHeldByOutput);
  r.SetWanting(false);
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_LT(r.HeldSeconds(kHeldByOutput) - o3, 0.02);
  // A removed cursor keeps what it was credited; an untagged one is never counted.
  r.RemoveCursor(out);
  EXPECT_GE(r.HeldSeconds(kHeldByOutput), o1);
  int plain = r.AddCursor(r.tail());
  ASSERT_GE(plain, 0);
  r.SetWanting(true);
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_EQ(r.HeldSeconds(0), 0);
}

// WaitFree (the sender's producer) says it wants while it waits.
TEST(Ring, WaitFreeCountsAsWanting) {
  Ring r(100);
  int c = r.AddCursor(0, kHeldByChain0);
  std::vector<char> x(100);
  ASSERT_EQ(r.WriteSome(x.data(), x.size()), 100u);
  std::thread mover([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    r.MoveCursor(c, 50);
  });
  EXPECT_TRUE(r.WaitFree(10));
  mover.join();
  EXPECT_GE(r.HeldSeconds(kHeldByChain0), 0.03);
  double h = r.HeldSeconds(kHeldByChain0);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(r.HeldSeconds(kHeldByChain0), h);  // no longer waiting
}

}  // namespace
}  // namespace ka::chain
