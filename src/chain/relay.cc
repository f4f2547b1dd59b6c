#include "chain/relay.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "util/log.h"
#include "util/net.h"

namespace ka::chain {

RelayBatch BatchForChain(size_t members) {
  RelayBatch b;
  if (members <= 50) return b;
  b.poll_ms = std::max(1, static_cast<int>(500 / members));
  b.lowat = std::max<size_t>(64 * 1024, b.lowat * static_cast<size_t>(b.poll_ms) / 10);
  return b;
}

void Relay::SetBatch(RelayBatch batch) {
  lowat_ = batch.lowat;
  poll_ms_ = std::max(1, batch.poll_ms);
  batch_changed_ = true;
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

// Wake up for a batch of data, not for every segment: fewer polls, splices, tees, ring commits
// and consumer wake-ups per GiB. The tail below the mark is read on poll's timeout.
void Relay::ApplyBatch() {
  if (!upstream_.valid()) return;
  int lowat = static_cast<int>(lowat_.load());
  (void)::setsockopt(upstream_.get(), SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat);
}

Relay::Relay(Ring& ring, bool use_splice, double hold_seconds)
    : ring_(ring), use_splice_(use_splice), hold_seconds_(hold_seconds) {
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  notifier_ = ring_.AddNotifier();
  notify_fd_ = ring_.notify_fd(notifier_);
  devnull_.reset(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  if (use_splice_) {
    if (::pipe2(pipe_a_, O_CLOEXEC | O_NONBLOCK) != 0 || ::pipe2(pipe_b_, O_CLOEXEC | O_NONBLOCK) != 0) {
      use_splice_ = false;
    } else {
      int sz_a = ::fcntl(pipe_a_[1], F_SETPIPE_SZ, static_cast<int>(pipe_size_));
      int sz_b = ::fcntl(pipe_b_[1], F_SETPIPE_SZ, static_cast<int>(pipe_size_));
      if (sz_a > 0 && sz_b > 0) pipe_size_ = static_cast<size_t>(std::min(sz_a, sz_b));
      else pipe_size_ = 64 * 1024;
    }
  }
}

Relay::~Relay() {
  for (int fd : {pipe_a_[0], pipe_a_[1], pipe_b_[0], pipe_b_[1]})
    if (fd >= 0) ::close(fd);
  if (child_.cursor >= 0) ring_.RemoveCursor(child_.cursor);
  if (hold_cursor_ >= 0) ring_.RemoveCursor(hold_cursor_);
  for (auto& c : offers_) ring_.RemoveCursor(c.cursor);
  ring_.RemoveNotifier(notifier_);
}

void Relay::SetUpstream(UniqueFd fd, uint64_t link) {
  SetNonBlocking(fd.get(), true);
  {
    std::lock_guard l(mu_);
    pending_upstream_ = std::move(fd);
    pending_link_ = link;
  }
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

void Relay::DetachUpstream() {
  std::unique_lock l(mu_);
  pending_upstream_.reset();
  detach_requested_ = true;
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  detach_cv_.wait_for(l, std::chrono::seconds(5), [&] { return !detach_requested_ || stop_; });
}

bool Relay::SendUpstream(uint64_t link, std::string frame) {
  {
    std::lock_guard l(mu_);
    if (outbox_bytes_ + frame.size() > kMaxOutbox) return false;
    outbox_bytes_ += frame.size();
    outbox_.push_back(Outgoing{link, std::move(frame)});
  }
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  return true;
}

bool Relay::CanSendUpstream() const {
  std::lock_guard l(mu_);
  return outbox_bytes_ + 1024 <= kMaxOutbox;
}

// Loop thread. Frames for a link that has been replaced are dropped (their keys are gone with
// it); frames for a link that is not ours yet wait for it.
void Relay::FlushOutbox() {
  std::lock_guard l(mu_);
  while (!outbox_.empty()) {
    Outgoing& o = outbox_.front();
    if (o.link > upstream_link_ || (o.link == upstream_link_ && !upstream_.valid())) return;
    if (o.link == upstream_link_) {
      ssize_t k =
          ::send(upstream_.get(), o.bytes.data() + out_sent_, o.bytes.size() - out_sent_, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (k < 0) return;  // full (the parent does not read) or failing: reading upstream tells which
      out_sent_ += static_cast<size_t>(k);
      if (out_sent_ < o.bytes.size()) return;
    }
    out_sent_ = 0;
    outbox_bytes_ -= o.bytes.size();
    outbox_.pop_front();
  }
}

void Relay::ReleaseHold() {
  {
    std::lock_guard l(mu_);
    release_requested_ = true;
  }
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

void Relay::KickChild() {
  {
    std::lock_guard l(mu_);
    kick_requested_ = true;
  }
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

void Relay::TakeUpstreamChanges() {
  bool kick;
  {
    std::lock_guard l(mu_);
    kick = kick_requested_;
    kick_requested_ = false;
  }
  if (kick) DropChild(Status::Closed("no longer our downstream neighbour"));
  std::lock_guard l(mu_);
  if (detach_requested_) {
    upstream_.reset();
    upstream_ended_ = false;
    detach_requested_ = false;
    detach_cv_.notify_all();
  }
  if (pending_upstream_.valid()) {
    upstream_ = std::move(pending_upstream_);
    if (pending_link_ != upstream_link_) out_sent_ = 0;  // a partly sent frame was for the old link
    upstream_link_ = pending_link_;
    ApplyBatch();
    upstream_ended_ = false;
    upstream_status_ = Status::Ok();
  }
  bool expired = hold_cursor_ >= 0 && std::chrono::steady_clock::now() > hold_until_;
  if (hold_cursor_ >= 0 && (release_requested_ || expired)) {
    ring_.RemoveCursor(hold_cursor_);
    hold_cursor_ = -1;
  }
  release_requested_ = false;
}

uint64_t Relay::OfferChild(UniqueFd fd, uint64_t pos, const std::string& name,
                           std::shared_ptr<ChildListener> listener) {
  uint64_t number;
  {
    std::lock_guard l(mu_);
    Child c;
    c.fd = std::move(fd);
    c.pos = pos;
    c.name = name;
    c.listener = std::move(listener);
    c.cursor = ring_.AddCursor(pos, child_tag_);  // protect the data from now on
    if (c.cursor < 0) {  // overwritten since the handshake checked it: the child retries and is refused
      LogWarn("position {} for {} is no longer held; closing its connection", pos, name);
      return 0;
    }
    number = c.number = next_child_number_++;
    offers_.push_back(std::move(c));
  }
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  return number;
}

void Relay::Stop() {
  stop_ = true;
  detach_cv_.notify_all();
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

Status Relay::upstream_status() const {
  std::lock_guard l(mu_);
  return upstream_status_;
}

Status Relay::child_status() const {
  std::lock_guard l(mu_);
  return child_status_;
}

void Relay::TakeOffers() {
  std::deque<Child> offers;
  {
    std::lock_guard l(mu_);
    offers.swap(offers_);
  }
  for (auto& c : offers) {
    if (child_.fd.valid()) DropChild(Status::Closed("replaced by a new connection from " + c.name));
    if (hold_cursor_ >= 0) {  // the new child's own cursor protects what it needs
      ring_.RemoveCursor(hold_cursor_);
      hold_cursor_ = -1;
    }
    child_ = std::move(c);
    child_progress_ = Clock::now();
    SetNonBlocking(child_.fd.get(), true);
    child_pos_ = child_.pos;
    child_number_ = child_.number;
    has_child_ = true;
    LogInfo("feeding {} from stream position {}", child_.name, child_.pos);
  }
}

void Relay::DropChild(const Status& why) {
  if (!child_.fd.valid()) return;
  if (why.code() == Status::Code::kClosed)
    LogInfo("downstream link to {} ended at position {}: {}", child_.name, child_.pos, why.message());
  else
    LogWarn("dropping downstream link to {} at position {}: {}", child_.name, child_.pos, why.ToString());
  if (a_bytes_ > 0) {
    DiscardPipe(pipe_a_[0], a_bytes_);
    a_bytes_ = 0;
  }
  // Keep the dropped child's data for its replacement (see ReleaseHold).
  if (hold_cursor_ >= 0) ring_.RemoveCursor(hold_cursor_);
  hold_cursor_ = child_.cursor;
  hold_until_ = std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(hold_seconds_));
  if (child_.listener) child_.listener->OnDropped();
  child_ = Child{};
  has_child_ = false;
  std::lock_guard l(mu_);
  child_status_ = why;
}

void Relay::EndUpstream(const Status& why) {
  upstream_.reset();
  {
    std::lock_guard l(mu_);
    upstream_status_ = why;
  }
  upstream_ended_ = true;
  ring_.Wake();  // the consumer re-checks upstream_ended()
}

void Relay::DiscardPipe(int pipe_r, size_t n) {
  while (n > 0) {
    ssize_t k = ::splice(pipe_r, nullptr, devnull_.get(), nullptr, n, 0);
    if (k <= 0) break;
    n -= static_cast<size_t>(k);
  }
}

bool Relay::FillRingFromPipe(int pipe_r, size_t n) {
  while (n > 0) {
    size_t contiguous = 0;
    uint8_t* p = ring_.WritePtr(&contiguous);
    ssize_t k = ::read(pipe_r, p, std::min(n, contiguous));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    ring_.Commit(static_cast<size_t>(k));
    n -= static_cast<size_t>(k);
  }
  return true;
}

void Relay::ReadUpstream() {
  size_t contiguous = 0;
  uint8_t* p = ring_.WritePtr(&contiguous);
  if (contiguous == 0) return;
  ssize_t k = ::recv(upstream_.get(), p, contiguous, MSG_DONTWAIT);
  if (k == 0) return EndUpstream(Status::Closed("upstream closed the connection"));
  if (k < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    return EndUpstream(Status::Io(ErrnoMessage("receiving from upstream", errno)));
  }
  ring_.Commit(static_cast<size_t>(k));
  copied_ += static_cast<uint64_t>(k);
}

// The child speaks (link beats): hand what it sent to its listener.
bool Relay::ReadChild() {
  uint8_t buf[4096];
  for (int i = 0; i < 16; ++i) {
    ssize_t k = ::recv(child_.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (k == 0) {
      DropChild(Status::Closed(child_.name + " closed its connection"));
      return false;
    }
    if (k < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
      DropChild(Status::Io(ErrnoMessage("receiving from " + child_.name, errno)));
      return false;
    }
    if (Status s = child_.listener->OnBytes(buf, static_cast<size_t>(k)); !s.ok()) {
      DropChild(s);
      return false;
    }
    if (static_cast<size_t>(k) < sizeof buf) return true;
  }
  return true;
}

void Relay::SpliceLive() {
  size_t len = std::min(ring_.Free(), pipe_size_);
  if (len == 0) return;
  ssize_t n = ::splice(upstream_.get(), nullptr, pipe_a_[1], nullptr, len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (n == 0) return EndUpstream(Status::Closed("upstream closed the connection"));
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    if (errno == EINVAL) {  // splice unsupported here: fall back to copying for good
      use_splice_ = false;
      return ReadUpstream();
    }
    return EndUpstream(Status::Io(ErrnoMessage("splicing from upstream", errno)));
  }
  size_t got = static_cast<size_t>(n);
  ssize_t t = ::tee(pipe_a_[0], pipe_b_[1], got, SPLICE_F_NONBLOCK);
  if (t != n) {
    // Could not duplicate everything: take it all through the ring instead.
    if (t > 0) DiscardPipe(pipe_b_[0], static_cast<size_t>(t));
    FillRingFromPipe(pipe_a_[0], got);
    copied_ += got;
    return;
  }
  FillRingFromPipe(pipe_b_[0], got);
  ssize_t s = ::splice(pipe_a_[0], nullptr, child_.fd.get(), nullptr, got, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (s < 0) {
    if (errno != EAGAIN && errno != EINTR) {
      a_bytes_ = got;
      return DropChild(Status::Io(ErrnoMessage("sending to " + child_.name, errno)));
    }
    s = 0;
  }
  child_.pos += static_cast<uint64_t>(s);
  if (s > 0) child_progress_ = Clock::now();
  a_bytes_ = got - static_cast<size_t>(s);
  spliced_ += static_cast<uint64_t>(s);
  ring_.MoveCursor(child_.cursor, child_.pos);
  child_pos_ = child_.pos;
}

void Relay::PumpChild() {
  ssize_t s;
  if (a_bytes_ > 0) {
    s = ::splice(pipe_a_[0], nullptr, child_.fd.get(), nullptr, a_bytes_, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (s > 0) {
      a_bytes_ -= static_cast<size_t>(s);
      spliced_ += static_cast<uint64_t>(s);
    }
  } else {
    size_t contiguous = 0;
    const uint8_t* p = ring_.ReadPtr(child_.pos, &contiguous);
    if (contiguous == 0) return;
    s = ::send(child_.fd.get(), p, std::min<size_t>(contiguous, 4 << 20), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (s > 0) copied_ += static_cast<uint64_t>(s);
  }
  if (s > 0) child_progress_ = Clock::now();
  if (s < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    return DropChild(Status::Io(ErrnoMessage("sending to " + child_.name, errno)));
  }
  child_.pos += static_cast<uint64_t>(s);
  ring_.MoveCursor(child_.cursor, child_.pos);
  child_pos_ = child_.pos;
}

void Relay::Run() {
  while (!stop_) {
    TakeUpstreamChanges();
    if (batch_changed_.exchange(false)) ApplyBatch();
    TakeOffers();
    FlushOutbox();
    uint64_t head = 0;
    bool have_child = false, up_want = false, child_pending = false, live = false, ring_wait = false;
    bool catch_up = false;
    auto look = [&] {
      head = ring_.head();
      have_child = child_.fd.valid();
      child_pending = have_child && (a_bytes_ > 0 || child_.pos < head);
      // While the child is behind but taking data, upstream waits (in its socket buffer): the
      // child catches up from the ring, then everything moves zero-copy again (reading on would
      // keep the child behind for good, and every byte would be copied twice: recv into the
      // ring, send out). A child that takes nothing for kChildStall is not waited for: the ring
      // absorbs its stall, as a buffer should.
      catch_up = use_splice_ && child_pending && Clock::now() - child_progress_ < kChildStall;
      up_want = upstream_.valid() && ring_.Free() > 0 && !catch_up;
      live = have_child && use_splice_ && a_bytes_ == 0 && child_.pos == head && upstream_.valid();
      // We wait on the ring for space (a slow local sink) or, on the sender, for data.
      ring_wait = (upstream_.valid() && !up_want && !child_pending) || (!upstream_.valid() && !child_pending);
    };
    look();
    if (ring_wait) {  // arm, then look again: nothing can slip between the two
      ring_.ArmNotify(notifier_);
      look();
    }
    // Who holds us back: upstream has bytes for us and we do not take them because the ring is
    // full (Ring::HeldSeconds says whose cursor holds its tail), or because our child is behind
    // and catching up while the ring has room (our child holds us: child_held_seconds). Only
    // catch-ups of kHeldSpell or more count: a child as fast as we are catches up within a
    // scheduling turn or two, and that holds nobody back.
    if (upstream_.valid()) producer_ = true;
    if (producer_) {
      auto upstream_pending = [&] {
        int pending = 0;
        return ::ioctl(upstream_.get(), FIONREAD, &pending) == 0 && pending > 0;
      };
      bool room = ring_.Free() > 0;
      bool catching_up = catch_up && room && upstream_.valid();
      ring_.SetWanting(upstream_.valid() && !catching_up && (up_want || upstream_pending()));
      auto now = Clock::now();
      if (catching_up && spell_start_ == Clock::time_point{}) spell_start_ = now;
      if (!catching_up && spell_start_ != Clock::time_point{}) {
        // (Upstream may have had nothing for us then: its own window waits for our child too.)
        if (now - spell_start_ >= kHeldSpell)
          child_held_ns_ += std::chrono::duration_cast<std::chrono::nanoseconds>(now - spell_start_).count();
        spell_start_ = {};
      }
    }

    pollfd fds[4];
    int n = 0;
    fds[n++] = {wake_.get(), POLLIN, 0};
    int ring_i = -1;
    if (ring_wait && notify_fd_ >= 0) {
      ring_i = n;
      fds[n++] = {notify_fd_, POLLIN, 0};
    }
    int up_i = -1, child_i = -1;
    if (up_want) {
      up_i = n;
      fds[n++] = {upstream_.get(), POLLIN, 0};
    }
    if (have_child) {
      child_i = n;
      fds[n++] = {child_.fd.get(), static_cast<short>(POLLIN | (child_pending ? POLLOUT : 0)), 0};
    }
    int timeout_ms = hold_cursor_ >= 0 ? 200 : 1000;
    int poll_ms = poll_ms_;
    if (up_want) timeout_ms = std::min(timeout_ms, poll_ms);                  // bytes below SO_RCVLOWAT wait no longer
    if (ring_wait && ring_i < 0) timeout_ms = std::min(timeout_ms, poll_ms);  // no eventfd: poll the ring
    if (catch_up && upstream_.valid()) {  // look again when the child's grace runs out
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(kChildStall - (Clock::now() - child_progress_));
      timeout_ms = std::clamp<int>(static_cast<int>(left.count()) + 1, 1, timeout_ms);
    }
    int rc = ::poll(fds, static_cast<nfds_t>(n), timeout_ms);
    if (rc < 0) {
      if (errno == EINTR) continue;
      LogError("relay poll: {}", ErrnoMessage("poll", errno));
      break;
    }
    if (fds[0].revents & POLLIN) {
      uint64_t v;
      (void)!::read(wake_.get(), &v, sizeof v);
    }
    if (ring_i >= 0 && (fds[ring_i].revents & POLLIN)) ring_.DrainNotify(notifier_);
    if (child_i >= 0 && child_.listener && (fds[child_i].revents & (POLLIN | POLLHUP | POLLERR))) {
      if (!ReadChild()) continue;
    } else if (child_i >= 0 && (fds[child_i].revents & (POLLIN | POLLHUP | POLLERR))) {
      // A child without a listener never sends after its handshake: readable means it went away.
      char b;
      ssize_t k = ::recv(child_.fd.get(), &b, 1, MSG_DONTWAIT | MSG_PEEK);
      if (k == 0 || (k < 0 && errno != EAGAIN)) {
        DropChild(Status::Closed(child_.name + " closed its connection"));
        continue;
      }
      if (k > 0) {
        DropChild(Status::Protocol(child_.name + " sent unexpected bytes on its data connection"));
        continue;
      }
    }
    if (up_i >= 0 && (rc == 0 || (fds[up_i].revents & (POLLIN | POLLHUP | POLLERR)))) {
      if (live) SpliceLive();
      else ReadUpstream();
    }
    if (child_i >= 0 && child_.fd.valid() && (fds[child_i].revents & POLLOUT)) PumpChild();
  }
}

}  // namespace ka::chain
