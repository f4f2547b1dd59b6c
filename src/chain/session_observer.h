// What a sending session reports as it runs: nodes joining and leaving, their
// state, progress, log lines and verdicts, the chain order and the phase. The
// sender (chain/sender.h) calls it; whoever keeps the session's record, draws
// its progress or serves its dashboard implements it (control/). Calls come
// from the sender's threads, some with its lock held: an observer must be
// quick and must not call back into the sender.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ka::chain {

class SessionObserver {
 public:
  virtual ~SessionObserver() = default;

  // The source is open: the session's id (16 hex digits), what it streams and its size when known.
  virtual void SessionStarted(const std::string& session_id, const std::string& source,
                              std::optional<uint64_t> total) = 0;
  // "preparing", "streaming", then "done" once every node was released.
  virtual void PhaseChanged(const std::string& phase) = 0;
  // The nodes of the chain, in order (after the sender), at every relink.
  virtual void ChainChanged(const std::vector<std::string>& names) = 0;
  // Payload bytes gone into the chain (about four times a second).
  virtual void BytesSent(uint64_t bytes) = 0;
  // Every node has its verdict; the nodes are released next.
  virtual void StreamFinished() = 0;

  virtual void NodeJoined(const std::string& name, const std::string& address) = 0;
  virtual void NodePosition(const std::string& name, int position) = 0;
  // The node's own state machine (STATUS), e.g. "formatting".
  virtual void NodeState(const std::string& name, const std::string& state, const std::string& detail) = 0;
  virtual void NodeBytes(const std::string& name, uint64_t payload) = 0;
  // Log lines the node shipped (LOG).
  virtual void NodeLog(const std::string& name, const std::vector<std::string>& lines) = 0;
  // The sender's verdict on the node: verified OK, or failed (left, dropped, refused or wrong).
  virtual void NodeDone(const std::string& name) = 0;
  virtual void NodeFailed(const std::string& name, const std::string& error) = 0;
};

}  // namespace ka::chain
