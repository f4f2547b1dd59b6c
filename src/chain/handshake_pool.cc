#include "chain/handshake_pool.h"

#include <sys/socket.h>

#include <thread>

#include "util/log.h"

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

void HandshakePool::AcceptLoop(int listen_fd, const std::atomic<bool>& stop,
                               const std::function<void(UniqueFd, Endpoint)>& body) {
  while (!stop) {
    Endpoint peer;
    auto c = AcceptTcp(listen_fd, DeadlineIn(0.2), &peer);
    if (!c.ok()) continue;
    if (!Start(std::move(c).value(), [body, peer](UniqueFd fd) { body(std::move(fd), peer); }))
      LogWarn("refused connection from {}: too many handshakes in progress", peer.ToString());
  }
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
