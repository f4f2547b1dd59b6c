// ProgressTicker: while a long step runs (update-initramfs, grub-mkconfig under
// emulation, ...), calls `tick` with the elapsed seconds every `every`, from its own
// thread, until it is destroyed. A step that ends sooner is never mentioned.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace ka {

class ProgressTicker {
 public:
  ProgressTicker(std::chrono::milliseconds every, std::function<void(double elapsed_seconds)> tick);
  ~ProgressTicker();  // stops and joins; no tick after it returns
  ProgressTicker(const ProgressTicker&) = delete;
  ProgressTicker& operator=(const ProgressTicker&) = delete;

  int ticks() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  int ticks_ = 0;
  std::thread thread_;
};

}  // namespace ka
