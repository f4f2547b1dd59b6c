#include "chain/handshake_pool.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "util/log.h"

namespace ka::chain {

void HandshakePool::Slot::Authenticated() {
  if (pool_) pool_->Release(*this);
}

void HandshakePool::Release(Slot& s) {
  std::lock_guard l(mu_);
  if (!s.counted_) return;
  s.counted_ = false;
  --pending_;
  if (--by_addr_[s.addr_] <= 0) by_addr_.erase(s.addr_);
}

bool HandshakePool::Start(UniqueFd fd, Endpoint peer, Body body) {
  uint32_t addr = peer.addr.sin_addr.s_addr;
  std::string why;
  {
    std::lock_guard l(mu_);
    if (stopped_) return false;
    if (pending_ >= limit_) {
      why = "too many handshakes in progress";
    } else if (by_addr_[addr] >= per_address_) {
      why = "too many handshakes in progress from this address";
    } else {
      ++pending_;
      ++by_addr_[addr];
      ++running_;
      fds_.insert(fd.get());
    }
    if (!why.empty() && by_addr_[addr] == 0) by_addr_.erase(addr);
  }
  if (!why.empty()) {
    uint64_t more = 0;
    if (log_limit_.Allow(why, &more))
      LogWarn("refused connection from {}: {}{}", peer.ToString(), why,
              more ? fmt::format(" (and {} more like it)", more) : std::string());
    return false;  // fd closes here
  }
  int raw = fd.get();
  std::thread([this, raw, addr, peer, fd = std::move(fd), body = std::move(body)]() mutable {
    Slot slot;
    slot.pool_ = this;
    slot.addr_ = addr;
    slot.fd_ = raw;
    body(std::move(fd), peer, slot);
    Release(slot);
    std::lock_guard l(mu_);
    fds_.erase(raw);
    --running_;
    cv_.notify_all();
  }).detach();
  return true;
}

HandshakePool::HandshakePool(int limit, int per_address)
    : limit_(limit), per_address_(per_address), wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

void HandshakePool::StopAccepting() {
  accepting_ = false;
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

void HandshakePool::AcceptLoop(int listen_fd, const Body& body) {
  while (accepting_) {
    pollfd p[2] = {{listen_fd, POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    int n = ::poll(p, 2, 1000);
    if (n <= 0 || !accepting_ || (p[1].revents & POLLIN)) continue;
    Endpoint peer;
    auto c = AcceptTcp(listen_fd, DeadlineIn(0), &peer);
    if (!c.ok()) continue;
    (void)Start(std::move(c).value(), peer, body);
  }
}

void HandshakePool::ShutdownAll() {
  std::unique_lock l(mu_);
  stopped_ = true;
  for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  cv_.wait(l, [&] { return running_ == 0; });
}

int HandshakePool::pending() const {
  std::lock_guard l(mu_);
  return pending_;
}

int HandshakePool::running() const {
  std::lock_guard l(mu_);
  return running_;
}

}  // namespace ka::chain
