#include "chain/handshake_pool.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

#include "chain/handshake.h"

namespace ka::chain {
namespace {

TEST(HandshakePool, RefusesBeyondItsLimit) {
  HandshakePool pool(2);
  std::atomic<int> ran{0};
  std::vector<int> peers;
  for (int i = 0; i < 3; ++i) {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    peers.push_back(sv[0]);
    bool started = pool.Start(UniqueFd(sv[1]), [&](UniqueFd fd) {
      char b;
      (void)!read(fd.get(), &b, 1);  // blocks until the peer speaks or shutdown
      ++ran;
    });
    EXPECT_EQ(started, i < 2) << i;
  }
  EXPECT_EQ(pool.active(), 2);
  pool.ShutdownAll();
  EXPECT_EQ(ran.load(), 2);
  for (int p : peers) close(p);
}

TEST(HandshakePool, ShutdownCutsASilentPeerShort) {
  InitCrypto();
  HandshakePool pool;
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  Status result;
  pool.Start(UniqueFd(sv[1]), [&](UniqueFd fd) {
    result = ServerHandshake(fd.get(), Secret(), "s", [](const Json&) { return Status::Ok(); }, 30).status();
  });
  auto t0 = std::chrono::steady_clock::now();
  pool.ShutdownAll();  // the silent peer would otherwise hold us for 30 s
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_FALSE(result.ok());
  close(sv[0]);
}

}  // namespace
}  // namespace ka::chain
