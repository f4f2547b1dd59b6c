#include "chain/fields.h"

#include <cmath>

namespace ka::chain {

Fields::Fields(const Json& j, const char* message) : j_(j), message_(message) {
  if (!j_.is_object()) Fail("is not a JSON object");
}

void Fields::Fail(const std::string& why) {
  if (status_.ok()) status_ = Status::Protocol(std::string(message_) + " " + why);
}

bool Fields::has(const char* name) const { return Find(name) != nullptr; }

const Json* Fields::Find(const char* name) const {
  if (!j_.is_object()) return nullptr;
  auto it = j_.find(name);
  if (it == j_.end() || it->is_null()) return nullptr;
  return &*it;
}

const Json* Fields::Get(const char* name, bool required) {
  if (!status_.ok()) return nullptr;
  const Json* v = Find(name);
  if (!v && required) Fail(std::string("has no member '") + name + "'");
  return v;
}

bool IsLowerHex(const std::string& s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Fields& Fields::Str(const char* name, std::string* out, size_t max_len) {
  const Json* v = Get(name, true);
  if (!v) return *this;
  if (!v->is_string()) {
    Fail(std::string("member '") + name + "' is not a string");
  } else if (v->get_ref<const std::string&>().size() > max_len) {
    Fail(std::string("member '") + name + "' is longer than " + std::to_string(max_len) + " bytes");
  } else {
    *out = v->get<std::string>();
  }
  return *this;
}

Fields& Fields::OptStr(const char* name, std::string* out, size_t max_len) {
  if (!Find(name)) return *this;
  return Str(name, out, max_len);
}

Fields& Fields::U64(const char* name, uint64_t* out, uint64_t max) {
  const Json* v = Get(name, true);
  if (!v) return *this;
  if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<int64_t>() >= 0)) {
    Fail(std::string("member '") + name + "' is not an unsigned integer");
    return *this;
  }
  uint64_t x = v->is_number_unsigned() ? v->get<uint64_t>() : static_cast<uint64_t>(v->get<int64_t>());
  if (x > max) {
    Fail(std::string("member '") + name + "' is over its limit of " + std::to_string(max));
    return *this;
  }
  *out = x;
  return *this;
}

Fields& Fields::U32(const char* name, uint32_t* out, uint32_t max) {
  uint64_t x = 0;
  U64(name, &x, max);
  if (status_.ok()) *out = static_cast<uint32_t>(x);
  return *this;
}

Fields& Fields::OptU64(const char* name, uint64_t* out, bool* present, uint64_t max) {
  if (present) *present = false;
  if (!Find(name)) return *this;
  U64(name, out, max);
  if (present) *present = status_.ok();
  return *this;
}

Fields& Fields::I64(const char* name, int64_t* out, int64_t min, int64_t max) {
  const Json* v = Get(name, true);
  if (!v) return *this;
  if (!v->is_number_integer()) {
    Fail(std::string("member '") + name + "' is not an integer");
    return *this;
  }
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    Fail(std::string("member '") + name + "' is out of range");
    return *this;
  }
  int64_t x = v->get<int64_t>();
  if (x < min || x > max) {
    Fail(std::string("member '") + name + "' is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return *this;
  }
  *out = x;
  return *this;
}

Fields& Fields::Bool(const char* name, bool* out) {
  const Json* v = Get(name, true);
  if (!v) return *this;
  if (!v->is_boolean()) Fail(std::string("member '") + name + "' is not true or false");
  else *out = v->get<bool>();
  return *this;
}

Fields& Fields::OptBool(const char* name, bool* out) {
  if (!Find(name)) return *this;
  return Bool(name, out);
}

Fields& Fields::Num(const char* name, double* out, double min, double max) {
  const Json* v = Get(name, true);
  if (!v) return *this;
  if (!v->is_number()) {
    Fail(std::string("member '") + name + "' is not a number");
    return *this;
  }
  double x = v->get<double>();
  if (!std::isfinite(x) || x < min || x > max) {
    Fail(std::string("member '") + name + "' is out of range");
    return *this;
  }
  *out = x;
  return *this;
}

Fields& Fields::OptNum(const char* name, double* out, double min, double max) {
  if (!Find(name)) return *this;
  return Num(name, out, min, max);
}

Fields& Fields::Hex(const char* name, std::string* out, size_t bytes) {
  std::string s;
  Str(name, &s, bytes * 2);
  if (!status_.ok()) return *this;
  if (s.size() != bytes * 2 || !IsLowerHex(s))
    Fail(std::string("member '") + name + "' is not " + std::to_string(bytes) + " bytes of lower-case hex");
  else
    *out = std::move(s);
  return *this;
}

Fields& Fields::OptHex(const char* name, std::string* out, size_t bytes) {
  if (!Find(name)) return *this;
  return Hex(name, out, bytes);
}

Fields& Fields::StrList(const char* name, std::vector<std::string>* out, size_t max_items, size_t max_len) {
  const Json* v = Get(name, true);
  if (!v) return *this;
  if (!v->is_array()) {
    Fail(std::string("member '") + name + "' is not a list");
    return *this;
  }
  if (v->size() > max_items) {
    Fail(std::string("member '") + name + "' has more than " + std::to_string(max_items) + " items");
    return *this;
  }
  std::vector<std::string> items;
  for (const auto& x : *v) {
    if (!x.is_string() || x.get_ref<const std::string&>().size() > max_len) {
      Fail(std::string("member '") + name + "' holds an item that is not a string of at most " +
           std::to_string(max_len) + " bytes");
      return *this;
    }
    items.push_back(x.get<std::string>());
  }
  *out = std::move(items);
  return *this;
}

Fields& Fields::Enum(const char* name, std::string* out, std::initializer_list<const char*> allowed) {
  std::string s;
  Str(name, &s, 64);
  if (!status_.ok()) return *this;
  for (const char* a : allowed)
    if (s == a) {
      *out = s;
      return *this;
    }
  std::string list;
  for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
  Fail(std::string("member '") + name + "' is '" + s.substr(0, 32) + "', not one of " + list);
  return *this;
}

}  // namespace ka::chain
