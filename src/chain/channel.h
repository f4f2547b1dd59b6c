// SecureChannel: the sealed control messages of one authenticated connection.
// Each direction has its own key (from the handshake, chain/auth.h) and its
// own sequence number, starting at 0: every frame is sealed with
// ChaCha20-Poly1305 under nonce = its sequence number and associated data =
// its header. A replayed, reordered, dropped, altered or injected frame does
// not open, and the channel is then dead: the connection is closed and the
// peer fails with the reason. docs/protocol.md §4.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "chain/auth.h"
#include "chain/message.h"
#include "util/fd.h"

namespace ka::chain {

class SecureChannel {
 public:
  enum class Side { kClient, kServer };
  // `max_read`: the largest payload accepted from the peer (kMaxControlPayload,
  // or kMaxResponsePayload for a status client).
  SecureChannel(UniqueFd fd, const HandshakeKeys& keys, Side side, uint32_t max_read = kMaxControlPayload);
  ~SecureChannel();
  SecureChannel(const SecureChannel&) = delete;
  SecureChannel& operator=(const SecureChannel&) = delete;

  int fd() const { return fd_.get(); }
  // Seals and sends one message. Thread-safe.
  Status Send(FrameType type, const Json& body, double timeout_s = 10);
  // Seals one message into a whole frame, for whoever owns the connection now (a data link's
  // relay sends it). Thread-safe; the frames must go out in the order they were sealed.
  Result<std::string> Seal(FrameType type, const Json& body);
  // Opens the first whole frame in `buffer` (bytes read from the connection by its owner) and
  // removes it; nullopt while the frame is incomplete. A header is checked before its payload
  // is waited for, so `buffer` never holds more than one frame's limit. One reader at a time.
  Result<std::optional<Message>> TakeFrame(std::string& buffer);
  // Reads and opens the next message. One reader at a time. After a failure
  // every later Read fails too.
  Result<Message> Read(Deadline deadline);
  // Opens a sealed frame whose header was already read (the handshake peeks
  // at the first answer, which may be a plain REFUSE).
  Result<Message> ReadAfterHeader(const uint8_t header[kHeaderSize], Deadline deadline);
  void Shutdown();
  // The connection itself, for a data link once its WELCOME has passed.
  UniqueFd Release();

 private:
  Result<Message> Open(const FrameHeader& h, const uint8_t header[kHeaderSize], std::string payload);
  Result<FrameHeader> CheckHeader(const uint8_t header[kHeaderSize]);
  UniqueFd fd_;
  Key send_key_, recv_key_;
  uint32_t max_read_;
  std::mutex write_mu_;  // Send: sealing and writing, one frame at a time
  std::mutex send_mu_;
  uint64_t send_seq_ = 0;  // guarded by send_mu_
  uint64_t recv_seq_ = 0;
  bool broken_ = false;
};

}  // namespace ka::chain
