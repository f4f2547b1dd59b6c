#include "chain/producer.h"

#include <chrono>
#include <cstring>
#include <thread>

#include "chain/frame.h"
#include "crypto/sha256.h"
#include "util/units.h"

namespace ka::chain {

Producer::Producer(Ring& ring, uint64_t session_id, Source& source, size_t chunk_size, ProducerCrypto crypto)
    : ring_(ring), session_id_(session_id), source_(source), chunk_(chunk_size), crypto_(std::move(crypto)) {}

Status Producer::status() const {
  std::lock_guard l(mu_);
  return status_;
}

std::string Producer::digest_hex() const {
  std::lock_guard l(mu_);
  return have_end_ ? ToHex(end_.tag_chain.data(), end_.tag_chain.size()) : std::string();
}

std::string Producer::payload_sha256_hex() const {
  std::lock_guard l(mu_);
  return have_end_ && (end_.flags & EndRecord::kHasDigest) ? ToHex(end_.digest.data(), end_.digest.size())
                                                           : std::string();
}

void Producer::ReplayFrom(uint64_t first_frame, const Producer* main) {
  first_frame_ = first_frame;
  main_ = main;
}

Status Producer::AppendFrame(const std::string& frame) {
  if (!ring_.WaitFree(frame.size())) return Status::Closed("session stopped");
  for (size_t done = 0; done < frame.size();) done += ring_.WriteSome(frame.data() + done, frame.size() - done);
  return Status::Ok();
}

Status Producer::Produce() {
  auto sealer = FrameSealer::Create(crypto_.key, session_id_);
  if (!sealer.ok()) return sealer.status();
  TagChain chain;
  std::unique_ptr<crypto::Sha256> sha;
  if (crypto_.digest || crypto_.sign) sha = std::make_unique<crypto::Sha256>();
  const size_t frame_size = kHeaderSize + chunk_;
  std::string scratch;
  uint64_t frame_no = first_frame_;
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
      if (sha) sha->Update(frame + kHeaderSize, n.value());
      if (!(*sealer)->SealData(offset, frame, n.value())) return Status::Io("sealing a DATA frame failed");
      if (crypto_.tag_log && !crypto_.tag_log->CheckOrRecord(frame_no, frame + kTagOffset))
        return Status::Io("the source changed while it was being streamed: frame " + std::to_string(frame_no) +
                          " (payload offset " + std::to_string(offset) + ") differs from its first reading");
      chain.Add(frame + kTagOffset);
      if (direct) {
        ring_.Commit(kHeaderSize + n.value());
      } else {
        KA_RETURN_IF_ERROR(AppendFrame(std::string(reinterpret_cast<char*>(frame), kHeaderSize + n.value())));
      }
      offset += n.value();
      ++frame_no;
      bytes_ = offset;
    }
    if (n.value() < chunk_) break;
  }
  KA_RETURN_IF_ERROR(source_.Finish());
  EndRecord end;
  if (main_) {  // we did not see the whole stream: end as the main producer did
    while (!main_->finished()) {
      if (ring_.closed()) return Status::Closed("session stopped");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!main_->status().ok()) return main_->status();
    {
      std::lock_guard l(main_->mu_);
      end = main_->end_;
    }
    if (end.total != offset)
      return Status::Io("the source changed while streaming: replay read " + std::to_string(offset) +
                        " bytes, the stream had " + std::to_string(end.total));
  } else {
    end.total = offset;
    end.tag_chain = chain.Final();
    if (sha) {
      end.flags |= EndRecord::kHasDigest;
      end.digest = sha->Final();
    }
    if (crypto_.sign) {
      std::string sig = crypto_.sign(StreamSignedMessage(session_id_, crypto_.prepare_hash, end.total, end.digest));
      if (sig.size() != end.signature.size()) return Status::Invalid("signing the stream failed");
      std::memcpy(end.signature.data(), sig.data(), sig.size());
      end.flags |= EndRecord::kHasSignature;
    }
  }
  {
    std::lock_guard l(mu_);
    end_ = end;
    have_end_ = true;
  }
  KA_RETURN_IF_ERROR(AppendFrame((*sealer)->SealEnd(end)));
  end_pos_ = ring_.head();
  return Status::Ok();
}

void Producer::Run() {
  Status st = Produce();
  if (!st.ok() && st.code() != Status::Code::kClosed) {
    auto sealer = FrameSealer::Create(crypto_.key, session_id_);
    if (sealer.ok()) (void)AppendFrame((*sealer)->SealAbort(bytes_.load(), st.ToString()));
  }
  {
    std::lock_guard l(mu_);
    status_ = st;
  }
  finished_ = true;
  ring_.Wake();
}

}  // namespace ka::chain
