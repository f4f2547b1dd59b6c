// Where a receiver puts the stream: a file or device, stdout, or the stdin of
// a command. A regular file is written as PATH.ka-incomplete and renamed to
// PATH only when the whole stream was verified, so a file at PATH is always
// complete; devices and stdout are written in place.
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
  // Called once: complete=true after a verified END (commit), false otherwise
  // (leave nothing that looks complete). Returns the final status (e.g. the
  // command's exit status).
  virtual Status Finish(bool complete) = 0;
  virtual std::string Describe() const = 0;
};

// "-" is stdout.
Result<std::unique_ptr<Output>> OpenPathOutput(const std::string& path);
Result<std::unique_ptr<Output>> OpenExecOutput(const std::string& command);

// The temporary name used for a regular file until it is complete.
std::string IncompleteName(const std::string& path);

}  // namespace ka::chain
