// The clone stream: what `ka serve` sends through the chain after the PREPARE
// phase, and what every node of `ka join` parses. A sequence of records, each
// an 8-byte header ('K' 'S', type, 0, payload length as u32 little-endian) and
// a payload:
//   BEGIN  (1) JSON: a section starts: {"kind":"tree"|"raw", "partition":N, ...}
//   DATA   (2) bytes of the current section (at most kMaxRecordData)
//   END    (3) JSON: the section ends, with its statistics
//   FINISH (4) JSON: the stream ends; nothing may follow
// Tree sections carry a zstd-compressed pax archive of one filesystem, raw
// sections a zstd-compressed partition image. See docs/clone.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "util/status.h"

namespace ka::format {

inline constexpr size_t kRecordHeader = 8;
inline constexpr uint32_t kMaxRecordData = 1u << 20;
inline constexpr uint32_t kMaxRecordJson = 64u << 10;

enum class RecordType : uint8_t { kBegin = 1, kData = 2, kEnd = 3, kFinish = 4 };

using ByteSink = std::function<Status(const void* data, size_t n)>;

// Encodes records into a sink. Data() splits into records of at most
// kMaxRecordData. The order is checked: Data only inside a section.
class StreamWriter {
 public:
  explicit StreamWriter(ByteSink sink) : sink_(std::move(sink)) {}
  Status Begin(const nlohmann::json& section);
  Status Data(const void* data, size_t n);
  Status End(const nlohmann::json& stats);
  Status Finish(const nlohmann::json& summary);
  uint64_t bytes() const { return bytes_; }

 private:
  Status Record(RecordType type, const void* data, size_t n);
  ByteSink sink_;
  bool in_section_ = false, finished_ = false;
  uint64_t bytes_ = 0;
};

// Parses a stream pushed in pieces of any size and calls the handler for each
// record. Any malformed input (bad magic, unknown type, a length over the
// limit, bad JSON, records out of order, bytes after FINISH) is a Corruption
// error naming the stream offset; after an error every Feed fails.
class StreamParser {
 public:
  struct Handler {
    virtual ~Handler() = default;
    virtual Status OnBegin(const nlohmann::json& section) = 0;
    virtual Status OnData(const void* data, size_t n) = 0;
    virtual Status OnEnd(const nlohmann::json& stats) = 0;
    virtual Status OnFinish(const nlohmann::json& summary) = 0;
  };
  explicit StreamParser(Handler& h) : h_(h) {}
  Status Feed(const void* data, size_t n);
  bool finished() const { return finished_; }
  bool in_section() const { return in_section_; }
  uint64_t offset() const { return offset_; }

 private:
  Status Dispatch();
  Handler& h_;
  uint8_t header_[kRecordHeader] = {};
  size_t header_fill_ = 0;
  RecordType type_ = RecordType::kBegin;
  uint32_t remaining_ = 0;   // payload bytes of the current record still to come
  std::string json_;         // payload of a JSON record being collected
  bool in_record_ = false, in_section_ = false, finished_ = false;
  uint64_t offset_ = 0;
  Status error_;
};

}  // namespace ka::format
