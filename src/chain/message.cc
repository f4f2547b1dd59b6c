#include "chain/message.h"

#include <sys/socket.h>

namespace ka::chain {

Result<Message> ParseMessage(const uint8_t header[kHeaderSize], std::string_view payload) {
  FrameHeader h;
  KA_RETURN_IF_ERROR(DecodeHeader(header, &h));
  if (!IsControlType(h.type))
    return Status::Protocol(std::string("expected a control message, got a ") + TypeName(h.type) + " frame");
  KA_RETURN_IF_ERROR(VerifyFrame(header, payload));
  Message m;
  m.type = h.type;
  m.session_id = h.session_id;
  m.body = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (m.body.is_discarded() || !m.body.is_object())
    return Status::Protocol(std::string(TypeName(h.type)) + " message body is not a JSON object");
  return m;
}

std::string EncodeMessage(FrameType type, uint64_t session_id, const Json& body) {
  return EncodeFrame(type, session_id, 0, body.dump());
}

Status SendMessage(int fd, FrameType type, uint64_t session_id, const Json& body, Deadline deadline) {
  std::string f = EncodeMessage(type, session_id, body);
  return WriteFull(fd, f.data(), f.size(), deadline, std::string("sending ") + TypeName(type));
}

Result<Message> ReadMessage(int fd, Deadline deadline) {
  uint8_t header[kHeaderSize];
  KA_RETURN_IF_ERROR(ReadFull(fd, header, sizeof header, deadline, "reading a control message"));
  FrameHeader h;
  KA_RETURN_IF_ERROR(DecodeHeader(header, &h));
  if (!IsControlType(h.type))
    return Status::Protocol(std::string("expected a control message, got a ") + TypeName(h.type) + " frame");
  std::string payload(h.length, '\0');
  KA_RETURN_IF_ERROR(ReadFull(fd, payload.data(), payload.size(), deadline, "reading a control message"));
  return ParseMessage(header, payload);
}

Result<std::string> StringField(const Json& j, const char* name, size_t max_len) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return Status::Protocol(std::string("missing string field '") + name + "'");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_len)
    return Status::Protocol(std::string("field '") + name + "' longer than " + std::to_string(max_len));
  return s;
}

Result<uint64_t> U64Field(const Json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_unsigned())
    return Status::Protocol(std::string("missing unsigned integer field '") + name + "'");
  return it->get<uint64_t>();
}

bool BoolField(const Json& j, const char* name, bool fallback) {
  auto it = j.find(name);
  return (it != j.end() && it->is_boolean()) ? it->get<bool>() : fallback;
}

Status ControlChannel::Send(FrameType type, uint64_t session_id, const Json& body, double timeout_s) {
  std::lock_guard lock(send_mu_);
  return SendMessage(fd_.get(), type, session_id, body, DeadlineIn(timeout_s));
}

void ControlChannel::Shutdown() {
  if (fd_.valid()) ::shutdown(fd_.get(), SHUT_RDWR);
}

}  // namespace ka::chain
