#include "chain/channel.h"

#include <sodium.h>
#include <sys/socket.h>

#include <cstring>

namespace ka::chain {

SecureChannel::SecureChannel(UniqueFd fd, const HandshakeKeys& keys, Side side, uint32_t max_read)
    : fd_(std::move(fd)),
      send_key_(side == Side::kClient ? keys.client_send : keys.server_send),
      recv_key_(side == Side::kClient ? keys.server_send : keys.client_send),
      max_read_(max_read) {}

SecureChannel::~SecureChannel() {
  sodium_memzero(send_key_.data(), send_key_.size());
  sodium_memzero(recv_key_.data(), recv_key_.size());
}

Result<std::string> SecureChannel::Seal(FrameType type, const Json& body) {
  std::string text = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > MaxPayload(type))
    return Status::Invalid(std::string(TypeName(type)) + " message of " + std::to_string(text.size()) +
                           " bytes is over its limit");
  std::lock_guard l(send_mu_);
  std::string frame(kHeaderSize + text.size(), '\0');
  auto* h = reinterpret_cast<uint8_t*>(frame.data());
  EncodeHeader(type, true, static_cast<uint32_t>(text.size()), 0, send_seq_, nullptr, h);
  uint8_t nonce[12];
  ControlNonce(send_seq_, nonce);
  unsigned long long tag_len = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(h + kHeaderSize, h + kTagOffset, &tag_len,
                                                     reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                                                     h, kAdSize, nullptr, nonce, send_key_.data());
  ++send_seq_;
  return frame;
}

Status SecureChannel::Send(FrameType type, const Json& body, double timeout_s) {
  // One lock for sealing and writing: frames leave in their sequence order.
  std::lock_guard l(write_mu_);
  auto frame = Seal(type, body);
  if (!frame.ok()) return frame.status();
  return WriteFull(fd_.get(), frame->data(), frame->size(), DeadlineIn(timeout_s),
                   std::string("sending ") + TypeName(type));
}

Result<Message> SecureChannel::Read(Deadline deadline) {
  if (broken_) return Status::Closed("the control channel failed earlier");
  uint8_t header[kHeaderSize];
  Status s = ReadFull(fd_.get(), header, sizeof header, deadline, "reading a control message");
  if (!s.ok()) {
    if (s.code() != Status::Code::kTimeout) broken_ = true;
    return s;
  }
  return ReadAfterHeader(header, deadline);
}

Result<FrameHeader> SecureChannel::CheckHeader(const uint8_t header[kHeaderSize]) {
  FrameHeader h;
  KA_RETURN_IF_ERROR(DecodeHeader(header, &h));
  if (!h.sealed || IsDataType(h.type))
    return Status::Protocol(std::string("a ") + (h.sealed ? "" : "plain ") + TypeName(h.type) +
                            " frame on an authenticated control connection");
  if (h.length > max_read_)
    return Status::Protocol(std::string(TypeName(h.type)) + " message of " + std::to_string(h.length) +
                            " bytes is over this connection's limit");
  if (h.counter != recv_seq_)
    return Status::Auth("control frame number " + std::to_string(h.counter) + " where " + std::to_string(recv_seq_) +
                        " was due: replayed, reordered or dropped on the way");
  return h;
}

Result<Message> SecureChannel::Open(const FrameHeader& h, const uint8_t header[kHeaderSize], std::string payload) {
  uint8_t nonce[12];
  ControlNonce(recv_seq_, nonce);
  auto* p = reinterpret_cast<unsigned char*>(payload.data());
  if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(p, nullptr, p, payload.size(), header + kTagOffset, header,
                                                         kAdSize, nonce, recv_key_.data()) != 0)
    return Status::Auth(std::string(TypeName(h.type)) + " control frame number " + std::to_string(h.counter) +
                        " failed authentication: altered or injected on the way, or the peer has another secret");
  ++recv_seq_;
  Message m;
  m.type = h.type;
  auto body = ParseBody(h.type, payload);
  if (!body.ok()) return body.status();
  m.body = std::move(body).value();
  return m;
}

Result<Message> SecureChannel::ReadAfterHeader(const uint8_t header[kHeaderSize], Deadline deadline) {
  broken_ = true;  // until this frame has opened
  auto h = CheckHeader(header);
  if (!h.ok()) return h.status();
  std::string payload(h->length, '\0');
  KA_RETURN_IF_ERROR(ReadFull(fd_.get(), payload.data(), payload.size(), deadline, "reading a control message"));
  auto m = Open(*h, header, std::move(payload));
  if (m.ok()) broken_ = false;
  return m;
}

Result<std::optional<Message>> SecureChannel::TakeFrame(std::string& buffer) {
  if (broken_) return Status::Closed("the link failed earlier");
  if (buffer.size() < kHeaderSize) return std::optional<Message>();
  uint8_t header[kHeaderSize];
  std::memcpy(header, buffer.data(), kHeaderSize);
  broken_ = true;  // until this frame has opened
  auto h = CheckHeader(header);
  if (!h.ok()) return h.status();
  if (buffer.size() < kHeaderSize + h->length) {
    broken_ = false;
    return std::optional<Message>();
  }
  std::string payload = buffer.substr(kHeaderSize, h->length);
  buffer.erase(0, kHeaderSize + h->length);
  auto m = Open(*h, header, std::move(payload));
  if (!m.ok()) return m.status();
  broken_ = false;
  return std::optional<Message>(std::move(m).value());
}

void SecureChannel::Shutdown() {
  if (fd_.valid()) ::shutdown(fd_.get(), SHUT_RDWR);
}

UniqueFd SecureChannel::Release() { return std::move(fd_); }

}  // namespace ka::chain
