#include "chain/handshake_pool.h"

#include <sys/socket.h>

#include <thread>

namespace ka::chain {

bool HandshakePool::Start(UniqueFd fd, std::function<void(UniqueFd)> body) {
  std::lock_guard l(mu_);
  if (stopped_ || active_ >= limit_) return false;  // fd closes here
  ++active_;
  int raw = fd.get();
  fds_.insert(raw);
  std::thread([this, raw, fd = std::move(fd), body = std::move(body)]() mutable {
    body(std::move(fd));
    std::lock_guard l(mu_);
    fds_.erase(raw);
    --active_;
    cv_.notify_all();
  }).detach();
  return true;
}

void HandshakePool::ShutdownAll() {
  std::unique_lock l(mu_);
  stopped_ = true;
  for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  cv_.wait(l, [&] { return active_ == 0; });
}

int HandshakePool::active() const {
  std::lock_guard l(mu_);
  return active_;
}

}  // namespace ka::chain
