// Where a receiver puts the stream: a file or device, stdout, or the stdin of
// a command. A regular file is written as PATH.ka-incomplete and renamed to
// PATH only by Commit(), once the whole stream was verified and the sender
// counted the node OK: a file at PATH is always complete. Devices and stdout
// are written in place.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "util/status.h"

namespace ka::chain {

class Output {
 public:
  virtual ~Output() = default;
  virtual Status Write(const void* data, size_t n) = 0;
  // Called once when the stream ends: complete=true after a verified END
  // (flush, sync, close stdin and wait for the command), false otherwise (stop
  // the command). Returns the final status (e.g. the command's exit status).
  virtual Status Close(bool complete) = 0;
  // After a successful Close(true), when the session confirms the node:
  // publishes the result (renames PATH.ka-incomplete to PATH).
  virtual Status Commit() { return Status::Ok(); }
  // After a successful Close(true), when the session does not confirm the node
  // (the sender's verdict is not OK, or the sender was lost): the result must
  // not be trusted or used (a clone's disk is marked not cloned).
  virtual void Discard(const std::string& why) { (void)why; }
  virtual std::string Describe() const = 0;
};

// "-" is stdout.
Result<std::unique_ptr<Output>> OpenPathOutput(const std::string& path);
Result<std::unique_ptr<Output>> OpenExecOutput(const std::string& command);

// The temporary name used for a regular file until it is complete.
std::string IncompleteName(const std::string& path);

}  // namespace ka::chain
