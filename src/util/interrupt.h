// Clean exit on SIGINT, SIGTERM and SIGHUP for commands that hold system
// state (mounts, loop devices, a half-written disk): the signals are blocked in
// every thread and taken by one watcher thread, which runs the cleanup and
// exits with 128 + signal. Construct it before starting any other thread.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

namespace ka {

class InterruptCleanup {
 public:
  InterruptCleanup();
  ~InterruptCleanup();
  InterruptCleanup(const InterruptCleanup&) = delete;
  InterruptCleanup& operator=(const InterruptCleanup&) = delete;
  // What to undo when a signal arrives (replaces any earlier one).
  void Set(std::function<void()> cleanup);

 private:
  std::mutex mu_;
  std::function<void()> cleanup_;
  std::thread watcher_;
  std::atomic<bool> done_{false};
};

}  // namespace ka
