#include "chain/producer.h"

#include <sodium.h>

#include <cstring>

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
  uint64_t offset = 0;
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
  {
    std::lock_guard l(mu_);
    digest_hex_ = ToHex(digest, kDigestSize);
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
