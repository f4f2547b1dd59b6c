// HandshakePool: runs incoming connections' handshakes on their own threads
// within tight limits, so that outsiders cannot starve genuine peers: at most
// `limit` unauthenticated connections at once and `per_address` from one IPv4
// address (more are closed at once, and each refusal kind is logged at a
// bounded rate). A connection leaves the count when its body calls
// Slot::Authenticated() or returns. Every pending connection can be cut short
// at shutdown (a silent peer cannot delay the end of a session).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "util/fd.h"
#include "util/log_limiter.h"
#include "util/net.h"

namespace ka::chain {

class HandshakePool {
 public:
  class Slot {
   public:
    // The peer proved itself: it no longer counts against the limits.
    void Authenticated();

   private:
    friend class HandshakePool;
    HandshakePool* pool_ = nullptr;
    uint32_t addr_ = 0;
    int fd_ = -1;
    bool counted_ = true;
  };
  using Body = std::function<void(UniqueFd, Endpoint, Slot&)>;

  explicit HandshakePool(int limit = 128, int per_address = 8);
  ~HandshakePool() { ShutdownAll(); }

  // Runs body on a new thread; false (and fd closed) when a limit is reached or stopped.
  bool Start(UniqueFd fd, Endpoint peer, Body body);
  // Accepts connections on listen_fd until StopAccepting(), running each through Start(). Thread body.
  void AcceptLoop(int listen_fd, const Body& body);
  // Makes AcceptLoop return at once (thread-safe).
  void StopAccepting();
  // Shuts down every connection still running and waits for their threads.
  void ShutdownAll();
  int pending() const;  // unauthenticated connections
  int running() const;  // threads

 private:
  void Release(Slot& s);
  int limit_, per_address_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<int> fds_;
  std::map<uint32_t, int> by_addr_;
  int pending_ = 0;
  int running_ = 0;
  bool stopped_ = false;
  LogLimiter log_limit_;
  UniqueFd wake_;  // eventfd: AcceptLoop returns when it is readable
  std::atomic<bool> accepting_{true};
};

}  // namespace ka::chain
