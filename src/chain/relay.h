// Relay: the data plane of one chain member. It appends what arrives from
// the upstream connection to the Ring and feeds the child connection.
//
// Forwarding comes first: when the child is caught up ("live"), bytes move
// upstream socket -> pipe A (splice), are duplicated into pipe B (tee) and go
// pipe A -> child socket (splice) without touching user space; pipe B is read
// once into the ring for the local sink and the replay window. When the child
// lags (slow link, or just re-linked at an older position) it is fed from the
// ring with send() until it catches up, while upstream keeps filling the ring.
// The sender runs a Relay with no upstream: its producer fills the ring.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "chain/ring.h"
#include "util/fd.h"
#include "util/status.h"

namespace ka::chain {

// How a relay batches what comes from upstream: it wakes when `lowat` bytes wait (SO_RCVLOWAT),
// or after `poll_ms`. Each hop holds about one batch (received, then sent), so a chain of L
// members delays its last one by about L batches: big batches cost less CPU per byte, small ones
// keep a long chain's pipeline short.
struct RelayBatch {
  size_t lowat = 512 * 1024;  // 4.4 ms of a 1 Gbit/s link; 15 % less CPU per hop than 128 KiB
  int poll_ms = 10;           // slower links wake on this instead: 10 ms of data at a time
};

// The batch for a member of a chain of `members`: the default up to 50 (the pipeline costs at
// most about 0.5 s there), then smaller so that the whole chain's batches stay near 0.5 s of poll
// time: 5 ms and 256 KiB at 100 members, 1 ms and 64 KiB from 500 on (docs/scale.md).
RelayBatch BatchForChain(size_t members);

class Relay {
 public:
  // Hears what the child sends us on its data link (its link beats), in the relay's thread.
  // Without a listener, a child that sends anything is dropped.
  class ChildListener {
   public:
    virtual ~ChildListener() = default;
    // Bytes as they arrive; a bad status drops the child.
    virtual Status OnBytes(const uint8_t* data, size_t size) = 0;
    // The relay no longer feeds this child (dropped, replaced, or it went away).
    virtual void OnDropped() = 0;
  };

  Relay(Ring& ring, bool use_splice, double hold_seconds = 10);
  ~Relay();

  // The connection from our parent (receivers only). Thread-safe: replaces the
  // current upstream, if any, at the next turn of the loop. `link` names it for SendUpstream
  // (increasing from one link to the next).
  void SetUpstream(UniqueFd fd, uint64_t link = 0);
  // Queues a whole frame for our parent on upstream link `link`: sent when that link is the
  // current one, dropped once a later link has replaced it. False (nothing queued) when more
  // than kMaxOutbox bytes wait already: the parent does not read (frozen). Thread-safe.
  bool SendUpstream(uint64_t link, std::string frame);
  // Whether SendUpstream would take a frame of up to 1 KiB now (for a single producer).
  bool CanSendUpstream() const;
  // Stops reading the current upstream and closes it; returns once done, so
  // that ring head() is final until the next SetUpstream. Thread-safe.
  void DetachUpstream();
  // A dropped child's data stays protected (so its replacement can resume
  // from where it was) until a new child arrives, this is called, or
  // `hold_seconds` pass. Thread-safe.
  void ReleaseHold();
  // Drops the current child now (it is no longer our downstream neighbour);
  // its data stays held as above. Thread-safe.
  void KickChild();
  // A newly authenticated child, to be fed from wire position `pos`.
  // Replaces any current child. Thread-safe.
  // Returns the child's number (child_number() tells whether it is still the one fed).
  uint64_t OfferChild(UniqueFd fd, uint64_t pos, const std::string& name,
                      std::shared_ptr<ChildListener> listener = nullptr);

  // Runs the loop until Stop(). Thread body.
  void Run();
  void Stop();

  // How to batch upstream reads from now on (thread-safe; the default is RelayBatch{}).
  void SetBatch(RelayBatch batch);
  // The ring tag of our child's cursor (Ring::HeldSeconds; kHeldByChild unless set, before Run).
  void SetChildTag(int tag) { child_tag_ = tag; }

  // Observers (thread-safe).
  bool upstream_ended() const { return upstream_ended_.load(); }
  Status upstream_status() const;
  bool has_child() const { return has_child_.load(); }
  uint64_t child_number() const { return has_child_ ? child_number_.load() : 0; }  // 0: none
  uint64_t child_position() const { return child_pos_.load(); }
  Status child_status() const;  // why the last child was dropped, if it was
  uint64_t spliced_bytes() const { return spliced_.load(); }
  // Seconds so far that upstream had bytes for us and we waited for our child to catch up first
  // (what our child held us back besides the ring's space: Ring::HeldSeconds).
  double child_held_seconds() const { return static_cast<double>(child_held_ns_.load()) / 1e9; }
  uint64_t copied_bytes() const { return copied_.load(); }

 private:
  struct Child {
    UniqueFd fd;
    uint64_t pos = 0;
    int cursor = -1;
    std::string name;
    uint64_t number = 0;
    std::shared_ptr<ChildListener> listener;
  };
  struct Outgoing {
    uint64_t link = 0;
    std::string bytes;
  };
  static constexpr size_t kMaxOutbox = 64 * 1024;
  void TakeOffers();
  void TakeUpstreamChanges();
  void DropChild(const Status& why);
  void EndUpstream(const Status& why);
  void ReadUpstream();
  bool ReadChild();  // false: the child was dropped
  void FlushOutbox();
  void SpliceLive();
  void PumpChild();
  bool FillRingFromPipe(int pipe_r, size_t n);
  void DiscardPipe(int pipe_r, size_t n);

  using Clock = std::chrono::steady_clock;
  static constexpr Clock::duration kChildStall = std::chrono::milliseconds(50);
  void ApplyBatch();  // SO_RCVLOWAT on the current upstream
  std::atomic<size_t> lowat_{RelayBatch{}.lowat};
  std::atomic<int> poll_ms_{RelayBatch{}.poll_ms};
  std::atomic<bool> batch_changed_{false};
  Ring& ring_;
  bool use_splice_;
  int child_tag_ = kHeldByChild;
  bool producer_ = false;  // we read an upstream into the ring (a receiver): we say when we want to
  static constexpr Clock::duration kHeldSpell = std::chrono::milliseconds(20);
  Clock::time_point spell_start_{};     // the catch-up going on since (none: epoch)
  Clock::time_point child_progress_{};  // the child last took bytes
  UniqueFd upstream_;
  Child child_;
  int pipe_a_[2] = {-1, -1};
  int pipe_b_[2] = {-1, -1};
  size_t pipe_size_ = 1 << 20;
  size_t a_bytes_ = 0;  // bytes in pipe A not yet sent to the child (already in the ring)
  UniqueFd wake_;
  int notifier_ = -1;   // our own wake-up from the ring (ring_.AddNotifier)
  int notify_fd_ = -1;  // its eventfd (-1: none; the loop then wakes on its poll timeout)
  UniqueFd devnull_;
  double hold_seconds_;
  int hold_cursor_ = -1;
  std::chrono::steady_clock::time_point hold_until_;

  mutable std::mutex mu_;
  std::deque<Child> offers_;
  uint64_t next_child_number_ = 1;
  std::deque<Outgoing> outbox_;  // frames for our parent, oldest first
  size_t outbox_bytes_ = 0;
  uint64_t upstream_link_ = 0;  // the current upstream's link number
  size_t out_sent_ = 0;         // bytes of outbox_.front() already sent
  uint64_t pending_link_ = 0;
  UniqueFd pending_upstream_;
  bool detach_requested_ = false;
  bool release_requested_ = false;
  bool kick_requested_ = false;
  std::condition_variable detach_cv_;
  Status upstream_status_;
  Status child_status_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> upstream_ended_{false};
  std::atomic<bool> has_child_{false};
  std::atomic<uint64_t> child_number_{0};
  std::atomic<uint64_t> child_pos_{0};
  std::atomic<uint64_t> spliced_{0};
  std::atomic<uint64_t> copied_{0};
  std::atomic<int64_t> child_held_ns_{0};
};

}  // namespace ka::chain
