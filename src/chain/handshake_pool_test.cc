#include "chain/handshake_pool.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

#include "chain/handshake.h"

namespace ka::chain {
namespace {

Endpoint From(const char* ip) { return MakeEndpoint(inet_addr(ip), 1234); }

struct Blocked {
  std::vector<int> peers;
  ~Blocked() {
    for (int p : peers) close(p);
  }
};

// A body that blocks until its peer speaks or the pool shuts it down.
bool StartBlocking(HandshakePool& pool, Blocked& b, const char* ip, std::atomic<int>* ran,
                   bool authenticate = false) {
  int sv[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  b.peers.push_back(sv[0]);
  return pool.Start(UniqueFd(sv[1]), From(ip), [ran, authenticate](UniqueFd fd, Endpoint, HandshakePool::Slot& s) {
    if (authenticate) s.Authenticated();
    char c;
    (void)!read(fd.get(), &c, 1);
    ++*ran;
  });
}

TEST(HandshakePool, RefusesBeyondItsLimit) {
  HandshakePool pool(2, 8);
  std::atomic<int> ran{0};
  Blocked b;
  EXPECT_TRUE(StartBlocking(pool, b, "10.0.0.1", &ran));
  EXPECT_TRUE(StartBlocking(pool, b, "10.0.0.2", &ran));
  EXPECT_FALSE(StartBlocking(pool, b, "10.0.0.3", &ran));
  EXPECT_EQ(pool.pending(), 2);
  pool.ShutdownAll();
  EXPECT_EQ(ran.load(), 2);
}

TEST(HandshakePool, OneAddressCannotTakeEverySlot) {
  HandshakePool pool(64, 3);
  std::atomic<int> ran{0};
  Blocked b;
  int flood = 0;
  for (int i = 0; i < 50; ++i) flood += StartBlocking(pool, b, "10.0.0.66", &ran);
  EXPECT_EQ(flood, 3);
  EXPECT_TRUE(StartBlocking(pool, b, "10.0.0.7", &ran)) << "a genuine peer still gets in";
  pool.ShutdownAll();
}

TEST(HandshakePool, AuthenticatedConnectionsLeaveTheCount) {
  HandshakePool pool(2, 1);
  std::atomic<int> ran{0};
  Blocked b;
  EXPECT_TRUE(StartBlocking(pool, b, "10.0.0.1", &ran, /*authenticate=*/true));
  for (int t = 0; t < 200 && pool.pending() > 0; ++t) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(pool.pending(), 0);
  EXPECT_EQ(pool.running(), 1);
  EXPECT_TRUE(StartBlocking(pool, b, "10.0.0.1", &ran));  // the same address again
  pool.ShutdownAll();
}

TEST(HandshakePool, ShutdownCutsASilentPeerShort) {
  InitCrypto();
  HandshakePool pool;
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  Status result;
  pool.Start(UniqueFd(sv[1]), From("10.0.0.1"), [&](UniqueFd fd, Endpoint, HandshakePool::Slot&) {
    result = ServerHandshake(std::move(fd), Secret(), ServerLimits{30, 30}).status();
  });
  auto t0 = std::chrono::steady_clock::now();
  pool.ShutdownAll();  // the silent peer would otherwise hold us for 30 s
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_FALSE(result.ok());
  close(sv[0]);
}

}  // namespace
}  // namespace ka::chain
