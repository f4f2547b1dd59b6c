// HandshakePool: runs incoming connections' handshakes on their own threads,
// at most `limit` at once (more are closed at once: an outsider cannot pile
// up threads), and can cut every pending one short at shutdown (a silent
// peer cannot delay the end of a session).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>

#include "util/fd.h"
#include "util/net.h"

namespace ka::chain {

class HandshakePool {
 public:
  explicit HandshakePool(int limit = 64) : limit_(limit) {}
  ~HandshakePool() { ShutdownAll(); }

  // Runs body(fd) on a new thread; false (and fd closed) when full or stopped.
  bool Start(UniqueFd fd, std::function<void(UniqueFd)> body);
  // Accepts connections on listen_fd until `stop`, running body(fd, peer)
  // for each through Start(). Thread body.
  void AcceptLoop(int listen_fd, const std::atomic<bool>& stop,
                  const std::function<void(UniqueFd, Endpoint)>& body);
  // Shuts down every pending connection and waits for their threads.
  void ShutdownAll();
  int active() const;

 private:
  int limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<int> fds_;
  int active_ = 0;
  bool stopped_ = false;
};

}  // namespace ka::chain
