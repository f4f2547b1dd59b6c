#include "chain/frame.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstring>

namespace ka::chain {

namespace {
constexpr uint8_t kMagic[4] = {'K', 'A', '0', '1'};

// XXH3-64 of the payload, seeded with XXH3-64 of header bytes 0..32: binds
// type, length, session id and offset to the payload in one pass.
uint64_t Checksum(const uint8_t header[kHeaderSize], std::string_view payload) {
  uint64_t seed = XXH3_64bits(header, 32);
  return XXH3_64bits_withSeed(payload.data(), payload.size(), seed);
}
}  // namespace

void PutU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void PutU64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t GetU32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

bool IsKnownType(uint8_t t) { return (t >= 0x01 && t <= 0x14) || (t >= 0x20 && t <= 0x22); }
bool IsControlType(FrameType t) { return static_cast<uint8_t>(t) < 0x20; }

const char* TypeName(FrameType t) {
  switch (t) {
    case FrameType::kHello: return "HELLO";
    case FrameType::kChallenge: return "CHALLENGE";
    case FrameType::kAuth: return "AUTH";
    case FrameType::kWelcome: return "WELCOME";
    case FrameType::kRefuse: return "REFUSE";
    case FrameType::kChain: return "CHAIN";
    case FrameType::kProgress: return "PROGRESS";
    case FrameType::kDone: return "DONE";
    case FrameType::kBye: return "BYE";
    case FrameType::kAbort: return "ABORT";
    case FrameType::kDiscover: return "DISCOVER";
    case FrameType::kHere: return "HERE";
    case FrameType::kPrepare: return "PREPARE";
    case FrameType::kReady: return "READY";
    case FrameType::kStatus: return "STATUS";
    case FrameType::kLog: return "LOG";
    case FrameType::kExec: return "EXEC";
    case FrameType::kExecResult: return "EXEC_RESULT";
    case FrameType::kRequest: return "REQUEST";
    case FrameType::kResponse: return "RESPONSE";
    case FrameType::kData: return "DATA";
    case FrameType::kEnd: return "END";
    case FrameType::kStreamAbort: return "STREAM_ABORT";
  }
  return "UNKNOWN";
}

void EncodeHeader(FrameType type, uint64_t session_id, uint64_t offset, std::string_view payload,
                  uint8_t out[kHeaderSize]) {
  std::memset(out, 0, kHeaderSize);
  std::memcpy(out, kMagic, 4);
  out[4] = static_cast<uint8_t>(type);
  PutU32(out + 8, static_cast<uint32_t>(payload.size()));
  PutU64(out + 16, session_id);
  PutU64(out + 24, offset);
  PutU64(out + 32, Checksum(out, payload));
}

std::string EncodeFrame(FrameType type, uint64_t session_id, uint64_t offset, std::string_view payload) {
  std::string f(kHeaderSize + payload.size(), '\0');
  auto* h = reinterpret_cast<uint8_t*>(f.data());
  EncodeHeader(type, session_id, offset, payload, h);
  if (!payload.empty()) std::memcpy(h + kHeaderSize, payload.data(), payload.size());
  return f;
}

Status DecodeHeader(const uint8_t in[kHeaderSize], FrameHeader* out) {
  if (std::memcmp(in, kMagic, 4) != 0)
    return Status::Protocol("bad frame magic (not a ka peer, a different protocol version, or a corrupted stream)");
  if (in[5] != 0 || in[6] != 0 || in[7] != 0 || GetU32(in + 12) != 0)
    return Status::Protocol("non-zero reserved bits in frame header");
  if (!IsKnownType(in[4])) return Status::Protocol("unknown frame type " + std::to_string(in[4]));
  out->type = static_cast<FrameType>(in[4]);
  out->length = GetU32(in + 8);
  out->session_id = GetU64(in + 16);
  out->offset = GetU64(in + 24);
  out->checksum = GetU64(in + 32);
  // RESPONSE carries session snapshots and logs for `ka status`: as large as a data frame.
  uint32_t limit = IsControlType(out->type) && out->type != FrameType::kResponse ? kMaxControlPayload : kMaxDataPayload;
  if (out->length > limit)
    return Status::Protocol(std::string(TypeName(out->type)) + " frame length " + std::to_string(out->length) +
                            " exceeds the limit of " + std::to_string(limit));
  return Status::Ok();
}

Status VerifyFrame(const uint8_t header[kHeaderSize], std::string_view payload) {
  if (GetU32(header + 8) != payload.size()) return Status::Corruption("frame length does not match its payload");
  uint64_t want = GetU64(header + 32);
  uint64_t got = Checksum(header, payload);
  if (want != got)
    return Status::Corruption("checksum mismatch in " +
                              std::string(TypeName(static_cast<FrameType>(header[4]))) + " frame at offset " +
                              std::to_string(GetU64(header + 24)));
  return Status::Ok();
}

std::string EncodeEndPayload(uint64_t total, const uint8_t digest[kDigestSize]) {
  std::string p(kEndPayloadSize, '\0');
  auto* b = reinterpret_cast<uint8_t*>(p.data());
  PutU64(b, total);
  std::memcpy(b + 8, digest, kDigestSize);
  return p;
}

Status DecodeEndPayload(std::string_view payload, uint64_t* total, uint8_t digest[kDigestSize]) {
  if (payload.size() != kEndPayloadSize)
    return Status::Protocol("END frame payload has " + std::to_string(payload.size()) + " bytes, expected " +
                            std::to_string(kEndPayloadSize));
  auto* b = reinterpret_cast<const uint8_t*>(payload.data());
  *total = GetU64(b);
  std::memcpy(digest, b + 8, kDigestSize);
  return Status::Ok();
}

}  // namespace ka::chain
