// What a sender streams: a file or block device, stdin, or a command's stdout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "util/status.h"

namespace ka::chain {

class Source {
 public:
  virtual ~Source() = default;
  // Fills buf with up to n bytes; returns fewer only at the end of the source.
  virtual Result<size_t> Read(void* buf, size_t n) = 0;
  // After the last Read: e.g. the command's exit status.
  virtual Status Finish() = 0;
  virtual std::optional<uint64_t> size() const { return std::nullopt; }
  // True when any offset can be read again (files): such sources can serve late
  // joiners and resumes beyond the replay window.
  virtual bool rereadable() const { return false; }
  // Rereadable sources only: the next Read starts at this byte offset.
  virtual Status Seek(uint64_t) { return Status::Invalid("this source cannot be re-read"); }
  virtual std::string Describe() const = 0;
};

// "-" is stdin. Fails early (before anything is sent) if the path is unreadable.
Result<std::unique_ptr<Source>> OpenPathSource(const std::string& path);
Result<std::unique_ptr<Source>> OpenExecSource(const std::string& command);

}  // namespace ka::chain
