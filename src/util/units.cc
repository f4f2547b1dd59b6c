#include "util/units.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace ka {

Result<uint64_t> ParseSize(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 15) return Status::Invalid("bad size '" + text + "' (expected e.g. 64MiB, 1G, 4096)");
  uint64_t n = std::stoull(text.substr(0, i));
  std::string unit = text.substr(i);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  uint64_t mult;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kib" || unit == "kb") mult = 1ull << 10;
  else if (unit == "m" || unit == "mib" || unit == "mb") mult = 1ull << 20;
  else if (unit == "g" || unit == "gib" || unit == "gb") mult = 1ull << 30;
  else return Status::Invalid("bad size unit in '" + text + "' (use K, M, G, KiB, MiB or GiB)");
  return n * mult;
}

bool ParseLeadingNumber(const std::string& text, double* value, std::string* rest) {
  if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '.')) return false;
  char* end = nullptr;
  *value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !std::isfinite(*value)) return false;
  *rest = text.substr(static_cast<size_t>(end - text.c_str()));
  return true;
}

Result<double> ParseRate(const std::string& text) {
  double v = 0;
  std::string unit;
  if (!ParseLeadingNumber(text, &v, &unit))
    return Status::Invalid("bad rate '" + text + "' (expected e.g. 100mbit, 1gbit, 2.5gbit or bits/s)");
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double mult;
  if (unit.empty() || unit == "bit")
    mult = 1;
  else if (unit == "kbit")
    mult = 1e3;
  else if (unit == "mbit")
    mult = 1e6;
  else if (unit == "gbit")
    mult = 1e9;
  else if (unit == "tbit")
    mult = 1e12;
  else
    return Status::Invalid("bad rate unit in '" + text + "' (use kbit, mbit, gbit, tbit or plain bits/s)");
  if (v * mult <= 0) return Status::Invalid("rate '" + text + "' must be positive");
  return v * mult;
}

std::string FormatBytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::string ToHex(const void* data, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    s.push_back(d[p[i] >> 4]);
    s.push_back(d[p[i] & 15]);
  }
  return s;
}

}  // namespace ka
