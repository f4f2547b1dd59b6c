#include "chain/consumer.h"

#include <cstring>

#include "util/units.h"

namespace ka::chain {

Consumer::Consumer(Ring& ring, uint64_t session_id, DigestMode digest, Output* output,
                   std::function<bool()> upstream_gone)
    : ring_(ring), session_id_(session_id), output_(output), upstream_gone_(std::move(upstream_gone)),
      digest_(digest) {
  cursor_ = ring_.AddCursor(0);
}

Consumer::~Consumer() {
  if (cursor_ >= 0) ring_.RemoveCursor(cursor_);
}

ConsumeResult Consumer::result() const {
  std::lock_guard l(mu_);
  return result_;
}

bool Consumer::WaitFor(uint64_t end) {
  for (;;) {
    uint64_t head = ring_.WaitHeadFor(end, 200);
    if (head >= end) return true;
    if (ring_.closed()) return false;
    if (upstream_gone_ && upstream_gone_() && ring_.head() < end) return false;
  }
}

Status Consumer::Step(bool* done) {
  uint64_t pos = pos_.load();
  std::string at = " at stream position " + std::to_string(pos);
  if (!WaitFor(pos + kHeaderSize)) {
    if (ring_.closed()) return Status::Closed("stopped before the end of the stream" + at);
    return Status::Closed("the upstream connection ended before the end of the stream" + at);
  }
  uint8_t header[kHeaderSize];
  ring_.Read(pos, header, kHeaderSize);
  FrameHeader h;
  if (Status s = DecodeHeader(header, &h); !s.ok()) return Status::Corruption(s.message() + at);
  if (IsControlType(h.type))
    return Status::Corruption(std::string("a ") + TypeName(h.type) + " control frame inside the data stream" + at);
  if (h.session_id != session_id_)
    return Status::Corruption("frame from another session (session id " + std::to_string(h.session_id) +
                              ", expected " + std::to_string(session_id_) + ")" + at);
  if (h.offset != payload_.load())
    return Status::Corruption("frame out of order: payload offset " + std::to_string(h.offset) + ", expected " +
                              std::to_string(payload_.load()) + at);
  uint64_t end = pos + kHeaderSize + h.length;
  if (!WaitFor(end)) {
    if (ring_.closed()) return Status::Closed("stopped before the end of the stream" + at);
    return Status::Closed("the upstream connection ended in the middle of a frame" + at);
  }
  size_t contiguous = 0;
  const uint8_t* p = ring_.ReadPtr(pos + kHeaderSize, &contiguous);
  if (contiguous < h.length) {
    scratch_.resize(h.length);
    ring_.Read(pos + kHeaderSize, scratch_.data(), h.length);
    p = reinterpret_cast<const uint8_t*>(scratch_.data());
  }
  std::string_view payload(reinterpret_cast<const char*>(p), h.length);
  KA_RETURN_IF_ERROR(VerifyFrame(header, payload));

  switch (h.type) {
    case FrameType::kData:
      digest_.AddFrame(header, payload);
      if (output_status_.ok()) {
        output_status_ = output_->Write(p, h.length);
      }
      payload_ += h.length;
      break;
    case FrameType::kEnd: {
      uint64_t total;
      uint8_t want[kDigestSize], got[kDigestSize];
      KA_RETURN_IF_ERROR(DecodeEndPayload(payload, &total, want));
      digest_.Final(got);
      {
        std::lock_guard l(mu_);
        result_.digest_hex = ToHex(got, kDigestSize);
        result_.end_position = end;
      }
      if (total != payload_.load())
        return Status::Corruption("stream length mismatch: END says " + std::to_string(total) + " bytes, received " +
                                  std::to_string(payload_.load()));
      if (std::memcmp(want, got, kDigestSize) != 0)
        return Status::Corruption(std::string("whole-stream digest (") + DigestModeName(digest_.mode()) +
                                  ") mismatch (received " + ToHex(got, kDigestSize) +
                                  ", sender has " + ToHex(want, kDigestSize) + ")");
      *done = true;
      break;
    }
    case FrameType::kStreamAbort:
      return Status::Refused("the sender aborted the stream: " + std::string(payload));
    default:
      return Status::Corruption(std::string("unexpected ") + TypeName(h.type) + " frame" + at);
  }
  pos_ = end;
  ring_.MoveCursor(cursor_, end);
  return Status::Ok();
}

void Consumer::Run() {
  Status st;
  bool done = false;
  while (st.ok() && !done) st = Step(&done);
  Status out = output_->Close(st.ok() && output_status_.ok());
  if (st.ok() && !output_status_.ok()) st = output_status_;
  if (st.ok() && !out.ok()) st = out;
  // Keep the ring moving for the child even if we stopped early.
  ring_.RemoveCursor(cursor_);
  cursor_ = -1;
  {
    std::lock_guard l(mu_);
    result_.status = st;
    result_.bytes = payload_.load();
  }
  finished_ = true;
  ring_.Wake();
}

}  // namespace ka::chain
