// The ka wire frame: a fixed 40-byte header followed by a payload. Every byte
// that ka sends over TCP or UDP is inside one. Layout (little-endian), see
// docs/protocol.md:
//   0  magic "KA01"   4 type  5 flags(0)  6 reserved u16(0)
//   8  u32 length     12 reserved u32(0)
//   16 u64 session id 24 u64 offset
//   32 u64 checksum = XXH3_64bits_withSeed(payload, seed = XXH3_64bits(header[0..32]))
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace ka::chain {

inline constexpr size_t kHeaderSize = 40;
inline constexpr uint32_t kMaxControlPayload = 64 * 1024;
inline constexpr uint32_t kMaxDataPayload = 16 * 1024 * 1024;
inline constexpr uint32_t kProtocolVersion = 1;

enum class FrameType : uint8_t {
  // Control frames: the payload is a UTF-8 JSON object.
  kHello = 0x01,
  kChallenge = 0x02,
  kAuth = 0x03,
  kWelcome = 0x04,
  kRefuse = 0x05,
  kChain = 0x06,
  kProgress = 0x07,
  kDone = 0x08,
  kBye = 0x09,
  kAbort = 0x0a,
  kDiscover = 0x0b,
  kHere = 0x0c,
  kPrepare = 0x0d,  // sender -> node before the stream: what to prepare (clone manifest)
  kReady = 0x0e,    // node -> sender: prepared (or why not)
  kStatus = 0x0f,   // node -> sender: its state machine ("formatting", ...)
  kLog = 0x10,      // node -> sender: log lines
  kExec = 0x11,     // sender -> node: run a command (sessions started with --allow-exec)
  kExecResult = 0x12,  // node -> sender: its exit status and output
  kRequest = 0x13,  // status client -> sender: snapshot, log, exec
  kResponse = 0x14, // sender -> status client
  // Data-stream frames: binary payload.
  kData = 0x20,
  kEnd = 0x21,
  kStreamAbort = 0x22,
};

bool IsKnownType(uint8_t t);
bool IsControlType(FrameType t);
const char* TypeName(FrameType t);

struct FrameHeader {
  FrameType type = FrameType::kData;
  uint32_t length = 0;
  uint64_t session_id = 0;
  uint64_t offset = 0;
  uint64_t checksum = 0;
};

// Writes the 40 header bytes, computing the checksum over header and payload.
void EncodeHeader(FrameType type, uint64_t session_id, uint64_t offset, std::string_view payload,
                  uint8_t out[kHeaderSize]);
// A whole frame (header + payload) as one string.
std::string EncodeFrame(FrameType type, uint64_t session_id, uint64_t offset, std::string_view payload);

// Parses and sanity-checks a header: magic, zero reserved fields, known type,
// length within the limit for its kind. Does not check the checksum (the
// payload is not known yet).
Status DecodeHeader(const uint8_t in[kHeaderSize], FrameHeader* out);
// Verifies the checksum of a header and its payload.
Status VerifyFrame(const uint8_t header[kHeaderSize], std::string_view payload);

// Payload of kEnd: total stream length and its BLAKE2b-256 digest.
inline constexpr size_t kDigestSize = 32;
inline constexpr size_t kEndPayloadSize = 8 + kDigestSize;
std::string EncodeEndPayload(uint64_t total, const uint8_t digest[kDigestSize]);
Status DecodeEndPayload(std::string_view payload, uint64_t* total, uint8_t digest[kDigestSize]);

// Little-endian helpers.
void PutU32(uint8_t* p, uint32_t v);
void PutU64(uint8_t* p, uint64_t v);
uint32_t GetU32(const uint8_t* p);
uint64_t GetU64(const uint8_t* p);

}  // namespace ka::chain
