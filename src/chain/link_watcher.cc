#include "chain/link_watcher.h"

namespace ka::chain {

LinkWatcher::LinkWatcher(uint64_t node_id, std::string name, std::unique_ptr<SecureChannel> channel, double min_timeout,
                         double max_timeout, Clock::time_point start)
    : node_id_(node_id),
      name_(std::move(name)),
      channel_(std::move(channel)),
      liveness_(min_timeout, max_timeout, start) {}

Status LinkWatcher::Feed(const uint8_t* data, size_t size, Clock::time_point now) {
  buffer_.append(reinterpret_cast<const char*>(data), size);
  for (;;) {
    auto m = channel_->TakeFrame(buffer_);
    if (!m.ok()) return m.status().Wrap("the link beat of " + name_);
    if (!m->has_value()) return Status::Ok();
    if ((*m)->type != FrameType::kProgress)
      return Status::Protocol(std::string("a ") + TypeName((*m)->type) + " frame from " + name_ +
                              " on its data link, where only link beats (PROGRESS) may come");
    auto beat = LinkBeat::Decode((*m)->body);
    if (!beat.ok()) return beat.status().Wrap("the link beat of " + name_);
    std::lock_guard l(mu_);
    beat_ = beat.value();
    liveness_.Heartbeat(now);
  }
}

void LinkWatcher::OnDropped() {
  std::lock_guard l(mu_);
  dropped_ = true;
}

std::optional<LinkBeat> LinkWatcher::beat() const {
  std::lock_guard l(mu_);
  return beat_;
}

bool LinkWatcher::dropped() const {
  std::lock_guard l(mu_);
  return dropped_;
}

void LinkWatcher::Excuse(double seconds, Clock::time_point now) {
  std::lock_guard l(mu_);
  liveness_.Excuse(seconds, now);
}

bool LinkWatcher::Frozen(Clock::time_point now) const {
  std::lock_guard l(mu_);
  return !dropped_ && liveness_.Frozen(now);
}

double LinkWatcher::Silence(Clock::time_point now) const {
  std::lock_guard l(mu_);
  return liveness_.Silence(now);
}

bool LinkWatcher::MarkReported() {
  std::lock_guard l(mu_);
  bool first = !reported_;
  reported_ = true;
  return first;
}

}  // namespace ka::chain
