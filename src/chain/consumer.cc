#include "chain/consumer.h"

#include <cstring>

#include "util/units.h"

namespace ka::chain {

Consumer::Consumer(Ring& ring, uint64_t session_id, ConsumerCrypto crypto, Output* output,
                   std::function<bool()> upstream_gone)
    : ring_(ring), session_id_(session_id), crypto_(std::move(crypto)), output_(output),
      upstream_gone_(std::move(upstream_gone)) {
  cursor_ = ring_.AddCursor(0, kHeldByOutput);
  if (crypto_.digest || crypto_.verify) sha_ = std::make_unique<crypto::Sha256>();
}

Consumer::~Consumer() {
  if (cursor_ >= 0) ring_.RemoveCursor(cursor_);
}

ConsumeResult Consumer::result() const {
  std::lock_guard l(mu_);
  return result_;
}

bool Consumer::WaitFor(uint64_t end) {
  if (ring_.head() >= end) return true;
  if (upstream_gone_ && upstream_gone_()) return false;
  for (;;) {
    uint64_t head = ring_.WaitHeadFor(end, 200);
    if (head >= end) return true;
    if (ring_.closed()) return false;
    if (upstream_gone_ && upstream_gone_() && ring_.head() < end) return false;
  }
}

Status Consumer::CheckEnd(const EndRecord& end) {
  uint64_t got = payload_.load();
  if (end.total != got)
    return Status::Corruption("stream length mismatch: END says " + std::to_string(end.total) + " bytes, received " +
                              std::to_string(got));
  auto chain = chain_.Final();
  {
    std::lock_guard l(mu_);
    result_.digest_hex = ToHex(chain.data(), chain.size());
  }
  if (std::memcmp(chain.data(), end.tag_chain.data(), chain.size()) != 0)
    return Status::Corruption("the chain of frame tags differs from the sender's (frames missing or replaced)");
  if (sha_) {
    auto sha = sha_->Final();
    {
      std::lock_guard l(mu_);
      result_.sha256_hex = ToHex(sha.data(), sha.size());
    }
    if (!(end.flags & EndRecord::kHasDigest))
      return Status::Corruption("the stream's END carries no payload digest, though the session announced one");
    if (std::memcmp(sha.data(), end.digest.data(), sha.size()) != 0)
      return Status::Corruption("payload SHA-256 mismatch (received " + ToHex(sha.data(), sha.size()) +
                                ", sender has " + ToHex(end.digest.data(), end.digest.size()) + ")");
  }
  if (crypto_.verify) {
    if (!(end.flags & EndRecord::kHasSignature))
      return Status::Auth("the stream is not signed, and this node accepts only streams signed by " + crypto_.trusted);
    std::array<uint8_t, 32> ph{};
    if (crypto_.prepare_hash) ph = crypto_.prepare_hash();
    std::string msg = StreamSignedMessage(session_id_, ph, end.total, end.digest);
    std::string_view sig(reinterpret_cast<const char*>(end.signature.data()), end.signature.size());
    if (!crypto_.verify(msg, sig))
      return Status::Auth("the stream's signature does not verify with the trusted key " + crypto_.trusted +
                          ": it was not signed by that golden, or was altered");
    std::lock_guard l(mu_);
    result_.signature_ok = true;
  }
  return Status::Ok();
}

Status Consumer::Step(bool* done) {
  uint64_t pos = pos_.load();
  std::string at = " at stream position " + std::to_string(pos);
  if (!WaitFor(pos + kHeaderSize)) {
    if (ring_.closed()) return Status::Closed("stopped before the end of the stream" + at);
    return Status::Closed("the upstream connection ended before the end of the stream" + at);
  }
  if (pos == 0) first_frame_ = std::chrono::steady_clock::now();
  uint8_t header[kHeaderSize];
  ring_.Read(pos, header, kHeaderSize);
  FrameHeader h;
  if (Status s = DecodeHeader(header, &h); !s.ok()) return Status::Corruption(s.message() + at);
  if (!IsDataType(h.type) || !h.sealed)
    return Status::Corruption(std::string("a ") + TypeName(h.type) + " frame inside the data stream" + at);
  if (h.session_id != session_id_)
    return Status::Corruption("frame from another session (session id " + std::to_string(h.session_id) +
                              ", expected " + std::to_string(session_id_) + ")" + at);
  if (h.counter != payload_.load())
    return Status::Corruption("frame out of order: payload offset " + std::to_string(h.counter) + ", expected " +
                              std::to_string(payload_.load()) + at);
  if (h.type == FrameType::kData && (h.length == 0 || h.length > crypto_.chunk_size))
    return Status::Corruption("DATA frame of " + std::to_string(h.length) + " bytes (the chunk size is " +
                              std::to_string(crypto_.chunk_size) + ")" + at);
  if (h.type == FrameType::kEnd && h.length != EndRecord::kSize)
    return Status::Corruption("END frame of " + std::to_string(h.length) + " bytes" + at);
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
  switch (h.type) {
    case FrameType::kData: {
      if (plain_.size() < h.length) plain_.resize(h.length);
      if (!opener_->Open(header, h, p, plain_.data()))
        return Status::Corruption("DATA frame at payload offset " + std::to_string(h.counter) +
                                  " failed authentication: altered on the way, or not sealed by this session's "
                                  "sender" + at);
      chain_.Add(h.tag);
      if (sha_) sha_->Update(plain_.data(), h.length);
      if (output_status_.ok()) output_status_ = output_->Write(plain_.data(), h.length);
      payload_ += h.length;
      break;
    }
    case FrameType::kEnd: {
      uint8_t plain[EndRecord::kSize];
      if (!opener_->Open(header, h, p, plain))
        return Status::Corruption("END frame failed authentication: forged or altered on the way" + at);
      auto rec = EndRecord::Decode(std::string_view(reinterpret_cast<char*>(plain), sizeof plain));
      if (!rec.ok()) return rec.status();
      {
        std::lock_guard l(mu_);
        result_.end_position = end;
      }
      KA_RETURN_IF_ERROR(CheckEnd(rec.value()));
      {
        std::lock_guard l(mu_);
        result_.stream_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - first_frame_).count();
      }
      *done = true;
      break;
    }
    case FrameType::kStreamAbort: {
      auto reason = opener_->OpenAbort(header, h, std::string_view(reinterpret_cast<const char*>(p), h.length));
      if (!reason.ok()) return Status::Corruption(reason.status().message() + at);
      return Status::Refused("the sender aborted the stream: " + reason.value());
    }
    default:
      return Status::Corruption(std::string("unexpected ") + TypeName(h.type) + " frame" + at);
  }
  pos_ = end;
  ring_.MoveCursor(cursor_, end);
  return Status::Ok();
}

void Consumer::Run() {
  Status st;
  auto opener = FrameOpener::Create(crypto_.key);
  if (!opener.ok()) st = opener.status();
  else opener_ = std::move(opener).value();
  bool done = false;
  while (st.ok() && !done) st = Step(&done);
  // The output is complete only when every frame, END and any signature passed.
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
