// Control messages: a control frame whose payload is a JSON object. A
// ControlChannel sends and receives them on one TCP connection; sends are
// serialised so several threads may report on the same channel.
#pragma once

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "chain/frame.h"
#include "util/fd.h"
#include "util/net.h"
#include "util/status.h"

namespace ka::chain {

using Json = nlohmann::json;

struct Message {
  FrameType type = FrameType::kHello;
  uint64_t session_id = 0;
  Json body;
};

// Decodes a control message from a header and its payload (checksum, type,
// JSON object). Used for TCP and for UDP discovery datagrams.
Result<Message> ParseMessage(const uint8_t header[kHeaderSize], std::string_view payload);
std::string EncodeMessage(FrameType type, uint64_t session_id, const Json& body);

Status SendMessage(int fd, FrameType type, uint64_t session_id, const Json& body, Deadline deadline);
Result<Message> ReadMessage(int fd, Deadline deadline);

// Typed field access that fails with a Protocol status naming the field.
Result<std::string> StringField(const Json& j, const char* name, size_t max_len = 256);
Result<uint64_t> U64Field(const Json& j, const char* name);
bool BoolField(const Json& j, const char* name, bool fallback);

class ControlChannel {
 public:
  explicit ControlChannel(UniqueFd fd) : fd_(std::move(fd)) {}
  int fd() const { return fd_.get(); }
  Status Send(FrameType type, uint64_t session_id, const Json& body, double timeout_s = 10);
  Result<Message> Read(Deadline deadline) { return ReadMessage(fd_.get(), deadline); }
  void Shutdown();

 private:
  UniqueFd fd_;
  std::mutex send_mu_;
};

}  // namespace ka::chain
