// The ka wire frame (protocol version 2): a fixed 48-byte header followed by
// `length` payload bytes. Every byte ka sends over TCP or UDP is inside one.
// Layout (little-endian), docs/protocol.md §1:
//   0  magic "KA02"   4 type  5 flags (bit 0: sealed)  6 reserved u16(0)
//   8  u32 length     12 reserved u32(0)
//   16 u64 session id 24 u64 counter (DATA/END/STREAM_ABORT: payload offset;
//                                     sealed control frames: sequence number)
//   32 16-byte AEAD tag (zero in plain frames: discovery and handshake)
// Bytes 0..32 are the associated data of the frame's AEAD: type, length,
// session and counter are authenticated with the payload.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace ka::chain {

inline constexpr size_t kHeaderSize = 48;
inline constexpr size_t kAdSize = 32;      // header bytes covered by the tag
inline constexpr size_t kTagOffset = 32;
inline constexpr size_t kTagSize = 16;
inline constexpr uint32_t kMaxPlainPayload = 4096;             // discovery and handshake frames
inline constexpr uint32_t kMaxControlPayload = 64 * 1024;      // sealed control frames
inline constexpr uint32_t kMaxResponsePayload = 16 << 20;      // RESPONSE (status clients only)
inline constexpr uint32_t kMaxDataPayload = 16 << 20;          // DATA (the session's chunk size is smaller)
inline constexpr uint32_t kProtocolVersion = 2;
inline constexpr uint8_t kFlagSealed = 0x01;  // the payload is AEAD-sealed and the tag is set

enum class FrameType : uint8_t {
  // Plain frames: discovery and the handshake, before any key exists.
  kHello = 0x01,
  kChallenge = 0x02,
  kAuth = 0x03,
  kWelcome = 0x04,  // sealed: the server's first frame after AUTH
  kRefuse = 0x05,   // plain before AUTH is accepted, sealed after
  kChain = 0x06,
  kProgress = 0x07,
  kDone = 0x08,
  kBye = 0x09,
  kAbort = 0x0a,
  kDiscover = 0x0b,
  kHere = 0x0c,
  kPrepare = 0x0d,     // sender -> node before the stream: what to prepare (clone manifest)
  kReady = 0x0e,       // node -> sender: prepared (or why not)
  kStatus = 0x0f,      // node -> sender: its state machine ("formatting", ...)
  kLog = 0x10,         // node -> sender: log lines
  kExec = 0x11,        // sender -> node: a command signed by an operator key
  kExecResult = 0x12,  // node -> sender: its exit status and output
  kRequest = 0x13,     // status client -> sender: snapshot, log, exec
  kResponse = 0x14,    // sender -> status client
  kSuspect = 0x15,     // node -> sender: its downstream neighbour went silent on their link
  // Data-stream frames, sealed under the session's data key.
  kData = 0x20,
  kEnd = 0x21,
  kStreamAbort = 0x22,
};

bool IsKnownType(uint8_t t);
bool IsDataType(FrameType t);   // DATA, END, STREAM_ABORT
// Frames that may travel in clear (no key yet): DISCOVER, HERE, HELLO,
// CHALLENGE, AUTH, and REFUSE (which is sealed once the peer is authenticated).
// Every other type is always sealed.
bool IsPlainType(FrameType t);
const char* TypeName(FrameType t);
// The largest payload a frame of this type may declare (DecodeHeader enforces it).
uint32_t MaxPayload(FrameType t);

struct FrameHeader {
  FrameType type = FrameType::kData;
  bool sealed = false;
  uint32_t length = 0;
  uint64_t session_id = 0;
  uint64_t counter = 0;
  uint8_t tag[kTagSize] = {};
};

// Writes the 48 header bytes; `tag` may be null (zero tag: plain frames, or
// filled in later by sealing).
void EncodeHeader(FrameType type, bool sealed, uint32_t length, uint64_t session_id, uint64_t counter,
                  const uint8_t* tag, uint8_t out[kHeaderSize]);
// A whole plain frame (header + payload) as one string.
std::string EncodePlainFrame(FrameType type, std::string_view payload);

// Parses and checks a header: magic, flags (sealed exactly when the type must
// be; REFUSE either way), zero reserved fields, known type, length within
// MaxPayload(type). A peer's header that fails is a
// protocol error; nothing is allocated for a header that does not pass.
Status DecodeHeader(const uint8_t in[kHeaderSize], FrameHeader* out);

// The AEAD nonce of a frame sealed under the session data key: byte 0 the
// type, bytes 1..3 zero, bytes 4..11 the payload offset (little-endian).
void DataNonce(FrameType type, uint64_t offset, uint8_t nonce[12]);
// The AEAD nonce of a sealed control frame: bytes 0..3 zero, 4..11 the
// sequence number of that direction of that connection.
void ControlNonce(uint64_t seq, uint8_t nonce[12]);

// Little-endian helpers.
void PutU32(uint8_t* p, uint32_t v);
void PutU64(uint8_t* p, uint64_t v);
uint32_t GetU32(const uint8_t* p);
uint64_t GetU64(const uint8_t* p);

}  // namespace ka::chain
