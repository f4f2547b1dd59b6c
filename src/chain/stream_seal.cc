#include "chain/stream_seal.h"

#include <cstring>

namespace ka::chain {

namespace {
void Append(std::string* s, const void* p, size_t n) { s->append(static_cast<const char*>(p), n); }
void AppendU64(std::string* s, uint64_t v) {
  uint8_t b[8];
  PutU64(b, v);
  Append(s, b, 8);
}
}  // namespace

DataKey DataKey::Random(crypto::Cipher cipher) {
  DataKey k;
  k.cipher = cipher;
  randombytes_buf(k.key.data(), k.key.size());
  return k;
}

std::string EndRecord::Encode() const {
  std::string s;
  AppendU64(&s, total);
  Append(&s, tag_chain.data(), tag_chain.size());
  AppendU64(&s, flags);
  Append(&s, digest.data(), digest.size());
  Append(&s, signature.data(), signature.size());
  return s;
}

Result<EndRecord> EndRecord::Decode(std::string_view bytes) {
  if (bytes.size() != kSize)
    return Status::Protocol("END holds " + std::to_string(bytes.size()) + " bytes, expected " + std::to_string(kSize));
  auto* b = reinterpret_cast<const uint8_t*>(bytes.data());
  EndRecord e;
  e.total = GetU64(b);
  std::memcpy(e.tag_chain.data(), b + 8, 32);
  e.flags = GetU64(b + 40);
  if (e.flags & ~(kHasDigest | kHasSignature)) return Status::Protocol("END has unknown flags");
  std::memcpy(e.digest.data(), b + 48, 32);
  std::memcpy(e.signature.data(), b + 80, 64);
  return e;
}

TagChain::TagChain() { crypto_generichash_init(&st_, nullptr, 0, 32); }
void TagChain::Add(const uint8_t tag[kTagSize]) { crypto_generichash_update(&st_, tag, kTagSize); }
std::array<uint8_t, 32> TagChain::Final() {
  std::array<uint8_t, 32> out{};
  crypto_generichash_final(&st_, out.data(), out.size());
  return out;
}

std::string StreamSignedMessage(uint64_t session_id, const std::array<uint8_t, 32>& prepare_hash, uint64_t total,
                                const std::array<uint8_t, 32>& digest) {
  std::string m = "ka2-signed-stream";
  m.push_back('\0');
  AppendU64(&m, session_id);
  Append(&m, prepare_hash.data(), 32);
  AppendU64(&m, total);
  Append(&m, digest.data(), 32);
  return m;
}

std::string PrepareSignedMessage(uint64_t session_id, const std::array<uint8_t, 32>& prepare_hash) {
  std::string m = "ka2-signed-prepare";
  m.push_back('\0');
  AppendU64(&m, session_id);
  Append(&m, prepare_hash.data(), 32);
  return m;
}

TagLog::TagLog(uint64_t frames) : slots_(new std::atomic<uint64_t>[frames + 1]), n_(frames + 1) {
  for (uint64_t i = 0; i < n_; ++i) slots_[i].store(0, std::memory_order_relaxed);
}

bool TagLog::CheckOrRecord(uint64_t frame, const uint8_t tag[kTagSize]) {
  if (frame >= n_) return false;  // more frames than the source had: it changed
  uint64_t t = GetU64(tag) | 1;   // never 0, which marks an empty slot
  uint64_t empty = 0;
  if (slots_[frame].compare_exchange_strong(empty, t)) return true;
  return empty == t;
}

Result<std::unique_ptr<FrameSealer>> FrameSealer::Create(const DataKey& key, uint64_t session_id) {
  auto a = crypto::Aead::Create(key.cipher, key.key.data());
  if (!a.ok()) return a.status();
  return std::unique_ptr<FrameSealer>(new FrameSealer(std::move(a).value(), session_id));
}

bool FrameSealer::SealData(uint64_t offset, uint8_t* frame, size_t n) {
  EncodeHeader(FrameType::kData, true, static_cast<uint32_t>(n), sid_, offset, nullptr, frame);
  uint8_t nonce[12];
  DataNonce(FrameType::kData, offset, nonce);
  return aead_->Seal(nonce, frame, kAdSize, frame + kHeaderSize, n, frame + kHeaderSize, frame + kTagOffset);
}

std::string FrameSealer::SealEnd(const EndRecord& end) {
  std::string plain = end.Encode();
  std::string f(kHeaderSize + plain.size(), '\0');
  auto* h = reinterpret_cast<uint8_t*>(f.data());
  EncodeHeader(FrameType::kEnd, true, static_cast<uint32_t>(plain.size()), sid_, end.total, nullptr, h);
  uint8_t nonce[12];
  DataNonce(FrameType::kEnd, end.total, nonce);
  aead_->Seal(nonce, h, kAdSize, reinterpret_cast<const uint8_t*>(plain.data()), plain.size(), h + kHeaderSize,
              h + kTagOffset);
  return f;
}

std::string FrameSealer::SealAbort(uint64_t offset, const std::string& reason_in) {
  std::string reason = reason_in.substr(0, kMaxPlainPayload - 12);
  std::string f(kHeaderSize + 12 + reason.size(), '\0');
  auto* h = reinterpret_cast<uint8_t*>(f.data());
  EncodeHeader(FrameType::kStreamAbort, true, static_cast<uint32_t>(12 + reason.size()), sid_, offset, nullptr, h);
  uint8_t* nonce = h + kHeaderSize;
  randombytes_buf(nonce, 12);
  aead_->Seal(nonce, h, kAdSize, reinterpret_cast<const uint8_t*>(reason.data()), reason.size(), nonce + 12,
              h + kTagOffset);
  return f;
}

Result<std::unique_ptr<FrameOpener>> FrameOpener::Create(const DataKey& key) {
  auto a = crypto::Aead::Create(key.cipher, key.key.data());
  if (!a.ok()) return a.status();
  return std::unique_ptr<FrameOpener>(new FrameOpener(std::move(a).value()));
}

bool FrameOpener::Open(const uint8_t header[kHeaderSize], const FrameHeader& h, const uint8_t* payload, uint8_t* out) {
  uint8_t nonce[12];
  DataNonce(h.type, h.counter, nonce);
  return aead_->Open(nonce, header, kAdSize, payload, h.length, out, h.tag);
}

Result<std::string> FrameOpener::OpenAbort(const uint8_t header[kHeaderSize], const FrameHeader& h,
                                           std::string_view payload) {
  if (payload.size() < 12 || payload.size() != h.length) return Status::Protocol("STREAM_ABORT too short");
  auto* p = reinterpret_cast<const uint8_t*>(payload.data());
  std::string reason(payload.size() - 12, '\0');
  if (!aead_->Open(p, header, kAdSize, p + 12, reason.size(), reinterpret_cast<uint8_t*>(reason.data()), h.tag))
    return Status::Corruption("a STREAM_ABORT failed authentication (forged or altered on the way)");
  return reason;
}

}  // namespace ka::chain
