// libFuzzer target: the frame header decoder and plain (pre-authentication)
// messages, on arbitrary bytes: what any stranger can send before the handshake.
// Never a crash; an accepted header respects its type's limits and its sealed
// flag; an accepted plain message re-encodes to a frame that decodes the same.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "chain/frame.h"
#include "chain/message.h"

namespace {
void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "frame_fuzz: %s\n", what);
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ka::chain;
  if (size >= kHeaderSize) {
    FrameHeader h;
    if (DecodeHeader(data, &h).ok()) {
      Check(h.length <= MaxPayload(h.type), "a header over its type's limit was accepted");
      Check(h.length <= kMaxPlainPayload || h.sealed, "a plain frame over 4 KiB was accepted");
      Check(!h.sealed || !IsPlainType(h.type) || h.type == FrameType::kRefuse, "a sealed handshake frame");
      Check(h.sealed || IsPlainType(h.type), "a plain frame of a sealed-only type");
      uint8_t again[kHeaderSize];
      EncodeHeader(h.type, h.sealed, h.length, h.session_id, h.counter, h.sealed ? h.tag : nullptr, again);
      FrameHeader h2;
      Check(DecodeHeader(again, &h2).ok(), "a re-encoded header does not decode");
      Check(h2.length == h.length && h2.counter == h.counter && h2.session_id == h.session_id, "header round trip");
    }
  }
  std::string_view d(reinterpret_cast<const char*>(data), size);
  auto m = ParsePlainMessage(d);
  if (m.ok()) {
    Check(m->body.is_object(), "a plain message that is not an object");
    auto again = ParsePlainMessage(EncodePlainMessage(m->type, m->body));
    Check(again.ok() || m->body.dump().size() > kMaxPlainPayload, "a plain message does not re-encode");
  }
  return 0;
}
