#include "chain/ring.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace ka::chain {

Ring::Ring(size_t capacity, uint64_t base) : buf_(capacity), base_(base), head_(base) {
  if (capacity == 0) throw std::invalid_argument("ring capacity must be positive");
}

Ring::~Ring() {
  for (auto& [id, n] : notifiers_) ::close(n.fd);
}

uint64_t Ring::head() const {
  std::lock_guard l(mu_);
  return head_;
}

uint64_t Ring::TailLocked() const { return std::max(base_, head_ > buf_.size() ? head_ - buf_.size() : 0); }

uint64_t Ring::tail() const {
  std::lock_guard l(mu_);
  return TailLocked();
}

bool Ring::Holds(uint64_t pos) const {
  std::lock_guard l(mu_);
  return pos >= TailLocked() && pos <= head_;
}

uint64_t Ring::MinCursorLocked() const {
  uint64_t m = head_;
  for (auto& [id, pos] : cursors_) m = std::min(m, pos);
  return m;
}

size_t Ring::FreeLocked() const {
  uint64_t used = head_ - MinCursorLocked();  // cursors never sit below the tail, so used <= capacity
  return used >= buf_.size() ? 0 : buf_.size() - static_cast<size_t>(used);
}

void Ring::HeldBeforeLocked() {
  if (!holding_) return;
  auto now = std::chrono::steady_clock::now();
  double dt = std::chrono::duration<double>(now - held_since_).count();
  held_since_ = now;
  int tag = TailTagLocked();
  if (tag > 0) held_[tag] += dt;
}

// The least tag among the cursors at the tail (0: none tagged): one holder per moment, so that
// the tags' times add up to at most the time held. The window kept for the node after the child
// follows the child's link beats, a beat late: while the child itself has everything we hold, a
// full ring held by that window waits for the next beat, not for a slow node, and counts for
// nobody.
int Ring::TailTagLocked() const {
  uint64_t m = MinCursorLocked();
  int tag = 0;
  bool child_at_head = false;
  for (const auto& [id, pos] : cursors_) {
    auto t = cursor_tags_.find(id);
    if (t == cursor_tags_.end()) continue;
    if (t->second == kHeldByChild && pos >= head_) child_at_head = true;
    if (pos == m && (tag == 0 || t->second < tag)) tag = t->second;
  }
  return tag == kHeldByKeep && child_at_head ? 0 : tag;
}

void Ring::HeldAfterLocked() {
  bool was = holding_;
  holding_ = wanting_ && !cursors_.empty() && FreeLocked() == 0;
  if (holding_ && !was) held_since_ = std::chrono::steady_clock::now();
}

void Ring::SetWanting(bool wanting) {
  std::lock_guard l(mu_);
  if (wanting == wanting_) return;
  HeldBeforeLocked();
  wanting_ = wanting;
  HeldAfterLocked();
}

double Ring::HeldSeconds(int tag) const {
  std::lock_guard l(mu_);
  auto it = held_.find(tag);
  double total = it == held_.end() ? 0 : it->second;
  if (tag > 0 && holding_ && TailTagLocked() == tag)  // the current spell too, if this tag holds the tail now
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - held_since_).count();
  return total;
}

size_t Ring::Free() const {
  std::lock_guard l(mu_);
  return FreeLocked();
}

uint8_t* Ring::WritePtr(size_t* contiguous) {
  std::lock_guard l(mu_);
  size_t off = static_cast<size_t>(head_ % buf_.size());
  *contiguous = std::min(FreeLocked(), buf_.size() - off);
  return buf_.data() + off;
}

size_t Ring::WriteSome(const void* data, size_t n) {
  size_t contiguous = 0;
  uint8_t* p = WritePtr(&contiguous);
  const size_t k = std::min(contiguous, n);
  std::memcpy(p, data, k);
  Commit(k);
  return k;
}

void Ring::Commit(size_t n) {
  bool wake;
  {
    std::lock_guard l(mu_);
    assert(n <= FreeLocked());
    HeldBeforeLocked();
    head_ += n;
    HeldAfterLocked();
    wake = !head_waits_.empty() && head_ >= *head_waits_.begin();
    NotifyFdLocked();
  }
  if (wake) cv_.notify_all();
}

bool Ring::WaitFree(size_t want) {
  std::unique_lock l(mu_);
  auto it = free_waits_.insert(want);
  bool was_wanting = wanting_;
  if (!was_wanting && FreeLocked() < want) {
    HeldBeforeLocked();
    wanting_ = true;
    HeldAfterLocked();
  }
  cv_.wait(l, [&] { return closed_ || FreeLocked() >= want; });
  free_waits_.erase(it);
  if (wanting_ != was_wanting) {
    HeldBeforeLocked();
    wanting_ = was_wanting;
    HeldAfterLocked();
  }
  return !closed_;
}

void Ring::Read(uint64_t pos, void* dst, size_t n) const {
  auto* d = static_cast<uint8_t*>(dst);
  while (n > 0) {
    size_t off = static_cast<size_t>(pos % buf_.size());
    size_t k = std::min(n, buf_.size() - off);
    std::memcpy(d, buf_.data() + off, k);
    d += k;
    pos += k;
    n -= k;
  }
}

const uint8_t* Ring::ReadPtr(uint64_t pos, size_t* contiguous) const {
  std::lock_guard l(mu_);
  size_t off = static_cast<size_t>(pos % buf_.size());
  uint64_t avail = head_ > pos ? head_ - pos : 0;
  *contiguous = static_cast<size_t>(std::min<uint64_t>(avail, buf_.size() - off));
  return buf_.data() + off;
}

uint64_t Ring::WaitHead(uint64_t pos) {
  std::unique_lock l(mu_);
  auto it = head_waits_.insert(pos);
  cv_.wait(l, [&] { return closed_ || head_ >= pos; });
  head_waits_.erase(it);
  return head_;
}

uint64_t Ring::WaitHeadFor(uint64_t pos, int timeout_ms) {
  std::unique_lock l(mu_);
  auto it = head_waits_.insert(pos);
  cv_.wait_for(l, std::chrono::milliseconds(timeout_ms), [&] { return closed_ || head_ >= pos; });
  head_waits_.erase(it);
  return head_;
}

int Ring::AddCursor(uint64_t pos, int tag) {
  std::lock_guard l(mu_);
  if (pos < TailLocked()) return -1;
  HeldBeforeLocked();
  int id = next_cursor_++;
  cursors_[id] = pos;
  if (tag > 0) cursor_tags_[id] = tag;
  HeldAfterLocked();
  return id;
}

void Ring::MoveCursor(int id, uint64_t pos) {
  bool wake;
  {
    std::lock_guard l(mu_);
    HeldBeforeLocked();
    cursors_[id] = std::max(pos, TailLocked());
    HeldAfterLocked();
    wake = !free_waits_.empty() && FreeLocked() >= *free_waits_.begin();
    NotifyFdLocked();
  }
  if (wake) cv_.notify_all();
}

void Ring::RemoveCursor(int id) {
  {
    std::lock_guard l(mu_);
    HeldBeforeLocked();
    cursors_.erase(id);
    cursor_tags_.erase(id);
    HeldAfterLocked();
    NotifyFdLocked();
  }
  cv_.notify_all();
}

void Ring::Close() {
  {
    std::lock_guard l(mu_);
    closed_ = true;
    for (auto& [id, n] : notifiers_) n.armed = true;
    NotifyFdLocked();
  }
  cv_.notify_all();
}

void Ring::Wake() {
  {
    std::lock_guard l(mu_);
    for (auto& [id, n] : notifiers_) n.armed = true;
    NotifyFdLocked();
  }
  cv_.notify_all();
}

int Ring::AddNotifier() {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return -1;
  std::lock_guard l(mu_);
  int id = next_notifier_++;
  notifiers_[id] = Notifier{fd, false};
  return id;
}

void Ring::RemoveNotifier(int id) {
  std::lock_guard l(mu_);
  auto it = notifiers_.find(id);
  if (it == notifiers_.end()) return;
  ::close(it->second.fd);
  notifiers_.erase(it);
}

int Ring::notify_fd(int id) const {
  std::lock_guard l(mu_);
  auto it = notifiers_.find(id);
  return it == notifiers_.end() ? -1 : it->second.fd;
}

void Ring::ArmNotify(int id) {
  std::lock_guard l(mu_);
  if (auto it = notifiers_.find(id); it != notifiers_.end()) it->second.armed = true;
}

bool Ring::closed() const {
  std::lock_guard l(mu_);
  return closed_;
}

void Ring::NotifyFdLocked() {
  uint64_t one = 1;
  for (auto& [id, n] : notifiers_) {
    if (!n.armed) continue;
    n.armed = false;
    (void)!::write(n.fd, &one, sizeof one);
  }
}

void Ring::DrainNotify(int id) {
  int fd = notify_fd(id);
  uint64_t v;
  if (fd >= 0) (void)!::read(fd, &v, sizeof v);
}

}  // namespace ka::chain
