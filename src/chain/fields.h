// Fields: typed, bounded reading of one JSON control message from a peer.
// Each decoder of chain/messages.h walks its members through one Fields; the
// first missing, mistyped or out-of-range member becomes a Protocol status
// naming the message and the member. Nothing here throws, whatever the JSON.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/status.h"

namespace ka::chain {

using Json = nlohmann::json;

class Fields {
 public:
  Fields(const Json& j, const char* message);

  // Required members (a missing one is an error).
  Fields& Str(const char* name, std::string* out, size_t max_len);
  Fields& U64(const char* name, uint64_t* out, uint64_t max = UINT64_MAX);
  Fields& U32(const char* name, uint32_t* out, uint32_t max = UINT32_MAX);
  Fields& I64(const char* name, int64_t* out, int64_t min, int64_t max);
  Fields& Bool(const char* name, bool* out);
  Fields& Num(const char* name, double* out, double min, double max);
  // Lower-case hex of exactly `bytes` bytes.
  Fields& Hex(const char* name, std::string* out, size_t bytes);
  Fields& StrList(const char* name, std::vector<std::string>* out, size_t max_items, size_t max_len);

  // Optional members: absent (or null) leaves *out untouched; present but wrong is an error.
  Fields& OptStr(const char* name, std::string* out, size_t max_len);
  Fields& OptU64(const char* name, uint64_t* out, bool* present, uint64_t max = UINT64_MAX);
  Fields& OptBool(const char* name, bool* out);
  Fields& OptNum(const char* name, double* out, double min, double max);
  Fields& OptHex(const char* name, std::string* out, size_t bytes);

  // One of a fixed set of strings.
  Fields& Enum(const char* name, std::string* out, std::initializer_list<const char*> allowed);

  bool has(const char* name) const;
  const Json* Find(const char* name) const;  // null when absent or not an object member
  Status status() const { return status_; }
  bool ok() const { return status_.ok(); }
  void Fail(const std::string& why);  // records an error (first one wins)

 private:
  const Json* Get(const char* name, bool required);
  const Json& j_;
  const char* message_;
  Status status_;
};

bool IsLowerHex(const std::string& s);

}  // namespace ka::chain
