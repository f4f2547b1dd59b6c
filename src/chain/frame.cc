#include "chain/frame.h"

#include <cstring>

namespace ka::chain {

namespace {
constexpr uint8_t kMagic[4] = {'K', 'A', '0', '2'};
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

bool IsKnownType(uint8_t t) { return (t >= 0x01 && t <= 0x15) || (t >= 0x20 && t <= 0x22); }
bool IsDataType(FrameType t) { return static_cast<uint8_t>(t) >= 0x20; }

bool IsPlainType(FrameType t) {
  switch (t) {
    case FrameType::kDiscover:
    case FrameType::kHere:
    case FrameType::kHello:
    case FrameType::kChallenge:
    case FrameType::kAuth:
    case FrameType::kRefuse:
      return true;
    default:
      return false;
  }
}

uint32_t MaxPayload(FrameType t) {
  if (IsPlainType(t)) return kMaxPlainPayload;
  if (t == FrameType::kResponse) return kMaxResponsePayload;
  if (t == FrameType::kData) return kMaxDataPayload;
  if (t == FrameType::kEnd || t == FrameType::kStreamAbort) return kMaxPlainPayload;
  return kMaxControlPayload;
}

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
    case FrameType::kSuspect:
      return "SUSPECT";
    case FrameType::kData: return "DATA";
    case FrameType::kEnd: return "END";
    case FrameType::kStreamAbort: return "STREAM_ABORT";
  }
  return "UNKNOWN";
}

void EncodeHeader(FrameType type, bool sealed, uint32_t length, uint64_t session_id, uint64_t counter,
                  const uint8_t* tag, uint8_t out[kHeaderSize]) {
  std::memset(out, 0, kHeaderSize);
  std::memcpy(out, kMagic, 4);
  out[4] = static_cast<uint8_t>(type);
  out[5] = sealed ? kFlagSealed : 0;
  PutU32(out + 8, length);
  PutU64(out + 16, session_id);
  PutU64(out + 24, counter);
  if (tag) std::memcpy(out + kTagOffset, tag, kTagSize);
}

std::string EncodePlainFrame(FrameType type, std::string_view payload) {
  std::string f(kHeaderSize + payload.size(), '\0');
  auto* h = reinterpret_cast<uint8_t*>(f.data());
  EncodeHeader(type, false, static_cast<uint32_t>(payload.size()), 0, 0, nullptr, h);
  if (!payload.empty()) std::memcpy(h + kHeaderSize, payload.data(), payload.size());
  return f;
}

Status DecodeHeader(const uint8_t in[kHeaderSize], FrameHeader* out) {
  if (std::memcmp(in, kMagic, 4) != 0) {
    if (in[0] == 'K' && in[1] == 'A' && in[2] == '0' && in[3] == '1')
      return Status::Protocol("the peer speaks ka protocol version 1: upgrade it (this ka speaks version 2)");
    return Status::Protocol("bad frame magic (not a ka peer, another protocol version, or a corrupted stream)");
  }
  if ((in[5] & ~kFlagSealed) != 0 || in[6] != 0 || in[7] != 0 || GetU32(in + 12) != 0)
    return Status::Protocol("non-zero reserved bits in frame header");
  if (!IsKnownType(in[4])) return Status::Protocol("unknown frame type " + std::to_string(in[4]));
  out->type = static_cast<FrameType>(in[4]);
  out->sealed = (in[5] & kFlagSealed) != 0;
  bool may_be_plain = IsPlainType(out->type), may_be_sealed = !may_be_plain || out->type == FrameType::kRefuse;
  if (out->sealed ? !may_be_sealed : !may_be_plain)
    return Status::Protocol(std::string(TypeName(out->type)) + " frame " +
                            (out->sealed ? "marked sealed (it never is)" : "not sealed (it always is)"));
  out->length = GetU32(in + 8);
  out->session_id = GetU64(in + 16);
  out->counter = GetU64(in + 24);
  std::memcpy(out->tag, in + kTagOffset, kTagSize);
  uint32_t limit = MaxPayload(out->type);
  if (out->length > limit)
    return Status::Protocol(std::string(TypeName(out->type)) + " frame declares " + std::to_string(out->length) +
                            " payload bytes, over its limit of " + std::to_string(limit));
  return Status::Ok();
}

void DataNonce(FrameType type, uint64_t offset, uint8_t nonce[12]) {
  std::memset(nonce, 0, 12);
  nonce[0] = static_cast<uint8_t>(type);
  PutU64(nonce + 4, offset);
}

void ControlNonce(uint64_t seq, uint8_t nonce[12]) {
  std::memset(nonce, 0, 12);
  PutU64(nonce + 4, seq);
}

}  // namespace ka::chain
