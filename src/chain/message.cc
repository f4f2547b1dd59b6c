#include "chain/message.h"

namespace ka::chain {

Result<Json> ParseBody(FrameType type, std::string_view payload) {
  Json body = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object())
    return Status::Protocol(std::string(TypeName(type)) + " message body is not a JSON object");
  return body;
}

Result<Message> ParsePlainMessage(std::string_view datagram) {
  if (datagram.size() < kHeaderSize) return Status::Protocol("datagram shorter than a frame header");
  FrameHeader h;
  KA_RETURN_IF_ERROR(DecodeHeader(reinterpret_cast<const uint8_t*>(datagram.data()), &h));
  if (h.sealed) return Status::Protocol(std::string("unexpected sealed ") + TypeName(h.type) + " frame");
  if (datagram.size() != kHeaderSize + h.length) return Status::Protocol("datagram length does not match its frame");
  Message m;
  m.type = h.type;
  m.payload = std::string(datagram.substr(kHeaderSize));
  auto body = ParseBody(h.type, m.payload);
  if (!body.ok()) return body.status();
  m.body = std::move(body).value();
  return m;
}

std::string EncodePlainMessage(FrameType type, const Json& body) { return EncodePlainFrame(type, body.dump()); }

Status SendPlain(int fd, FrameType type, const std::string& payload, Deadline deadline) {
  std::string f = EncodePlainFrame(type, payload);
  return WriteFull(fd, f.data(), f.size(), deadline, std::string("sending ") + TypeName(type));
}

Result<Message> ReadPlain(int fd, Deadline deadline) {
  uint8_t header[kHeaderSize];
  KA_RETURN_IF_ERROR(ReadFull(fd, header, sizeof header, deadline, "reading a handshake message"));
  FrameHeader h;
  KA_RETURN_IF_ERROR(DecodeHeader(header, &h));
  if (h.sealed || !IsPlainType(h.type))
    return Status::Protocol(std::string("expected a handshake message, got a ") + (h.sealed ? "sealed " : "") +
                            TypeName(h.type) + " frame");
  Message m;
  m.type = h.type;
  m.payload.assign(h.length, '\0');
  KA_RETURN_IF_ERROR(ReadFull(fd, m.payload.data(), m.payload.size(), deadline, "reading a handshake message"));
  auto body = ParseBody(h.type, m.payload);
  if (!body.ok()) return body.status();
  m.body = std::move(body).value();
  return m;
}

}  // namespace ka::chain
