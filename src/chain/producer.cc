#include "chain/producer.h"

#include <sodium.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "chain/frame.h"
#include "util/units.h"

namespace ka::chain {

Producer::Producer(Ring& ring, uint64_t session_id, Source& source, size_t chunk_size, DigestMode digest)
    : ring_(ring), session_id_(session_id), source_(source), chunk_(chunk_size), digest_mode_(digest) {}

Status Producer::status() const {
  std::lock_guard l(mu_);
  return status_;
}

std::string Producer::digest_hex() const {
  std::lock_guard l(mu_);
  return digest_hex_;
}

std::string Producer::digest_bytes() const {
  std::lock_guard l(mu_);
  return digest_bytes_;
}

void Producer::ReplayFrom(uint64_t first_frame, const Producer* main) {
  first_frame_ = first_frame;
  main_ = main;
}

Status Producer::AppendFrame(const std::string& frame) {
  if (!ring_.WaitFree(frame.size())) return Status::Closed("session stopped");
  size_t done = 0;
  while (done < frame.size()) {
    size_t contiguous = 0;
    uint8_t* p = ring_.WritePtr(&contiguous);
    size_t k = std::min(contiguous, frame.size() - done);
    std::memcpy(p, frame.data() + done, k);
    ring_.Commit(k);
    done += k;
  }
  return Status::Ok();
}

Status Producer::Produce() {
  StreamDigest hash(digest_mode_);
  const size_t frame_size = kHeaderSize + chunk_;
  std::string scratch;
  uint64_t offset = first_frame_ * chunk_;
  if (main_) KA_RETURN_IF_ERROR(source_.Seek(offset));
  for (;;) {
    if (!ring_.WaitFree(frame_size)) return Status::Closed("session stopped");
    size_t contiguous = 0;
    uint8_t* p = ring_.WritePtr(&contiguous);
    bool direct = contiguous >= frame_size;
    uint8_t* frame = p;
    if (!direct) {
      scratch.resize(frame_size);
      frame = reinterpret_cast<uint8_t*>(scratch.data());
    }
    auto n = source_.Read(frame + kHeaderSize, chunk_);
    if (!n.ok()) return n.status();
    if (n.value() > 0) {
      std::string_view payload(reinterpret_cast<const char*>(frame + kHeaderSize), n.value());
      EncodeHeader(FrameType::kData, session_id_, offset, payload, frame);
      hash.AddFrame(frame, payload);
      if (direct) {
        ring_.Commit(kHeaderSize + n.value());
      } else {
        KA_RETURN_IF_ERROR(AppendFrame(std::string(reinterpret_cast<char*>(frame), kHeaderSize + n.value())));
      }
      offset += n.value();
      bytes_ = offset;
    }
    if (n.value() < chunk_) break;
  }
  KA_RETURN_IF_ERROR(source_.Finish());
  uint8_t digest[kDigestSize];
  hash.Final(digest);
  if (main_) {  // we did not see the whole stream: end as the main producer did
    while (!main_->finished()) {
      if (ring_.closed()) return Status::Closed("session stopped");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!main_->status().ok()) return main_->status();
    if (main_->bytes() != offset)
      return Status::Io("the source changed while streaming: replay read " + std::to_string(offset) +
                        " bytes, the stream had " + std::to_string(main_->bytes()));
    std::string d = main_->digest_bytes();
    std::memcpy(digest, d.data(), kDigestSize);
  }
  {
    std::lock_guard l(mu_);
    digest_hex_ = ToHex(digest, kDigestSize);
    digest_bytes_.assign(reinterpret_cast<char*>(digest), kDigestSize);
  }
  KA_RETURN_IF_ERROR(AppendFrame(EncodeFrame(FrameType::kEnd, session_id_, offset, EncodeEndPayload(offset, digest))));
  end_pos_ = ring_.head();
  return Status::Ok();
}

void Producer::Run() {
  Status st = Produce();
  if (!st.ok() && st.code() != Status::Code::kClosed) {
    std::string reason = st.ToString();
    (void)AppendFrame(EncodeFrame(FrameType::kStreamAbort, session_id_, bytes_.load(), reason));
  }
  {
    std::lock_guard l(mu_);
    status_ = st;
  }
  finished_ = true;
  ring_.Wake();
}

}  // namespace ka::chain
