#include "format/stream_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace ka::format {

namespace {
bool IsJsonType(RecordType t) { return t != RecordType::kData; }
const char* Name(RecordType t) {
  switch (t) {
    case RecordType::kBegin: return "BEGIN";
    case RecordType::kData: return "DATA";
    case RecordType::kEnd: return "END";
    case RecordType::kFinish: return "FINISH";
  }
  return "?";
}
}  // namespace

Status StreamWriter::Record(RecordType type, const void* data, size_t n) {
  uint8_t h[kRecordHeader] = {'K', 'S', static_cast<uint8_t>(type), 0};
  for (int i = 0; i < 4; ++i) h[4 + i] = static_cast<uint8_t>(n >> (8 * i));
  KA_RETURN_IF_ERROR(sink_(h, sizeof h));
  if (n) KA_RETURN_IF_ERROR(sink_(data, n));
  bytes_ += sizeof h + n;
  return Status::Ok();
}

Status StreamWriter::Begin(const nlohmann::json& section) {
  if (in_section_ || finished_) return Status::Invalid("clone stream: BEGIN inside a section or after FINISH");
  std::string j = section.dump();
  if (j.size() > kMaxRecordJson) return Status::Invalid("clone stream: section header too large");
  in_section_ = true;
  return Record(RecordType::kBegin, j.data(), j.size());
}

Status StreamWriter::Data(const void* data, size_t n) {
  if (!in_section_) return Status::Invalid("clone stream: DATA outside a section");
  auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    size_t k = std::min<size_t>(n, kMaxRecordData);
    KA_RETURN_IF_ERROR(Record(RecordType::kData, p, k));
    p += k;
    n -= k;
  }
  return Status::Ok();
}

Status StreamWriter::End(const nlohmann::json& stats) {
  if (!in_section_) return Status::Invalid("clone stream: END outside a section");
  in_section_ = false;
  std::string j = stats.dump();
  return Record(RecordType::kEnd, j.data(), j.size());
}

Status StreamWriter::Finish(const nlohmann::json& summary) {
  if (in_section_ || finished_) return Status::Invalid("clone stream: FINISH inside a section or twice");
  finished_ = true;
  std::string j = summary.dump();
  return Record(RecordType::kFinish, j.data(), j.size());
}

Status StreamParser::Feed(const void* data, size_t n) {
  if (!error_.ok()) return error_;
  auto* p = static_cast<const uint8_t*>(data);
  auto fail = [&](const std::string& why) {
    error_ = Status::Corruption(fmt::format("clone stream at offset {}: {}", offset_, why));
    return error_;
  };
  while (n > 0) {
    if (finished_) return fail("data after the end of the stream");
    if (!in_record_) {
      size_t k = std::min(n, kRecordHeader - header_fill_);
      std::memcpy(header_ + header_fill_, p, k);
      header_fill_ += k;
      p += k;
      n -= k;
      offset_ += k;
      if (header_fill_ < kRecordHeader) break;
      header_fill_ = 0;
      if (header_[0] != 'K' || header_[1] != 'S' || header_[3] != 0) return fail("bad record header (not a clone stream)");
      if (header_[2] < 1 || header_[2] > 4) return fail(fmt::format("unknown record type {}", header_[2]));
      type_ = static_cast<RecordType>(header_[2]);
      remaining_ = 0;
      for (int i = 3; i >= 0; --i) remaining_ = (remaining_ << 8) | header_[4 + i];
      uint32_t limit = IsJsonType(type_) ? kMaxRecordJson : kMaxRecordData;
      if (remaining_ > limit) return fail(fmt::format("{} record of {} bytes exceeds {}", Name(type_), remaining_, limit));
      bool want_section = type_ == RecordType::kData || type_ == RecordType::kEnd;
      if (want_section != in_section_)
        return fail(fmt::format("{} record {} a section", Name(type_), in_section_ ? "inside" : "outside"));
      in_record_ = true;
      json_.clear();
      if (remaining_ == 0 && type_ == RecordType::kData) {
        in_record_ = false;
        continue;
      }
      if (remaining_ > 0) continue;
    } else {
      size_t k = std::min<size_t>(n, remaining_);
      if (type_ == RecordType::kData) {
        if (Status s = h_.OnData(p, k); !s.ok()) {
          error_ = s;
          return s;
        }
      } else {
        json_.append(reinterpret_cast<const char*>(p), k);
      }
      p += k;
      n -= k;
      offset_ += k;
      remaining_ -= static_cast<uint32_t>(k);
      if (remaining_ > 0) break;
    }
    // A record is complete.
    in_record_ = false;
    if (type_ == RecordType::kData) continue;
    if (Status s = Dispatch(); !s.ok()) {
      if (error_.ok()) error_ = s;
      return error_;
    }
  }
  return Status::Ok();
}

Status StreamParser::Dispatch() {
  nlohmann::json j = nlohmann::json::parse(json_, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return error_ = Status::Corruption(fmt::format("clone stream at offset {}: {} record is not a JSON object", offset_,
                                                   Name(type_)));
  switch (type_) {
    case RecordType::kBegin:
      in_section_ = true;
      return h_.OnBegin(j);
    case RecordType::kEnd:
      in_section_ = false;
      return h_.OnEnd(j);
    case RecordType::kFinish:
      finished_ = true;
      return h_.OnFinish(j);
    case RecordType::kData:
      break;
  }
  return Status::Ok();
}

}  // namespace ka::format
