// Control messages: a control frame whose payload is one JSON object. Plain
// messages (discovery and the handshake, before any key exists) are read and
// written here, with the 4 KiB limit of pre-authentication frames; every
// later message goes through a SecureChannel (chain/channel.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "chain/frame.h"
#include "util/net.h"
#include "util/status.h"

namespace ka::chain {

using Json = nlohmann::json;

struct Message {
  FrameType type = FrameType::kHello;
  Json body;
  std::string payload;  // the payload bytes as received (handshake transcripts hash them)
};

// A JSON object from a payload, or a Protocol status naming the frame type.
Result<Json> ParseBody(FrameType type, std::string_view payload);

// One plain frame in a buffer (a UDP datagram).
Result<Message> ParsePlainMessage(std::string_view datagram);
std::string EncodePlainMessage(FrameType type, const Json& body);

Status SendPlain(int fd, FrameType type, const std::string& payload, Deadline deadline);
// Reads one plain frame (at most kMaxPlainPayload bytes). A sealed or data
// frame here is a protocol error.
Result<Message> ReadPlain(int fd, Deadline deadline);

}  // namespace ka::chain
