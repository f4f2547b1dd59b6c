#include "golden/fstab.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>
#include <string_view>

#include "util/strings.h"

namespace ka::golden {

namespace {

// udev's escapes in /dev/disk/by-label names: "my\x20disk".
std::string UnescapeHex(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && std::isxdigit(static_cast<unsigned char>(s[i + 2])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 3]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 2, 2), nullptr, 16));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Removes `prefix` from the front of `s`; false (and `s` unchanged) when it is not there.
bool Eat(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

// Removes the leading run of characters that pass `keep`; false when there is none.
template <typename Pred>
bool EatRun(std::string_view& s, Pred keep) {
  size_t n = 0;
  while (n < s.size() && keep(static_cast<unsigned char>(s[n]))) ++n;
  s.remove_prefix(n);
  return n > 0;
}

bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsLowerLetter(unsigned char c) { return c >= 'a' && c <= 'z'; }
bool AllDigits(std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos; }

// The partition number of a kernel device name: /dev/sda6, /dev/hdb2, /dev/vda1, /dev/xvda3
// ([shv]d or xvd, letters, digits), /dev/nvme0n1p2, /dev/mmcblk0p1, /dev/loop0p1 (disk, 'p',
// digits). A linear scan: std::regex recursed once per character and overflowed the stack on
// a long spec in a golden's fstab.
std::optional<std::string> KernelPartitionNumber(std::string_view s) {
  if (!Eat(s, "/dev/")) return std::nullopt;
  std::string_view disk = s;
  if (Eat(disk, "sd") || Eat(disk, "hd") || Eat(disk, "vd") || Eat(disk, "xvd")) {
    if (EatRun(disk, IsLowerLetter) && AllDigits(disk)) return std::string(disk);
    return std::nullopt;
  }
  bool named = false;
  if (Eat(s, "nvme")) {
    named = EatRun(s, IsDigit) && Eat(s, "n") && EatRun(s, IsDigit);
  } else if (Eat(s, "mmcblk") || Eat(s, "loop")) {
    named = EatRun(s, IsDigit);
  }
  if (named && Eat(s, "p") && AllDigits(s)) return std::string(s);
  return std::nullopt;
}

}  // namespace

Result<std::vector<FstabEntry>> ParseFstab(const std::string& text) {
  std::vector<FstabEntry> out;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    if (f.empty()) continue;
    if (f.size() < 3)
      return Status::Invalid("fstab line " + std::to_string(n) + " has " + std::to_string(f.size()) +
                             " field(s); expected: device mountpoint type [options [dump [pass]]]");
    FstabEntry e;
    e.spec = UnescapeOctal(f[0]);
    e.file = UnescapeOctal(f[1]);
    e.type = f[2];
    e.options = f.size() > 3 ? f[3] : "defaults";
    e.line = n;
    out.push_back(e);
  }
  return out;
}

SpecMatch ParseSpec(const std::string& raw) {
  std::string spec = raw;
  if (spec.size() >= 2 && spec.front() == '"' && spec.back() == '"') spec = spec.substr(1, spec.size() - 2);
  struct Prefix {
    const char* p;
    SpecMatch::Kind k;
  };
  for (auto [p, k] : {Prefix{"UUID=", SpecMatch::kUuid}, Prefix{"LABEL=", SpecMatch::kLabel},
                      Prefix{"PARTUUID=", SpecMatch::kPartUuid}, Prefix{"PARTLABEL=", SpecMatch::kPartLabel},
                      Prefix{"/dev/disk/by-uuid/", SpecMatch::kUuid}, Prefix{"/dev/disk/by-label/", SpecMatch::kLabel},
                      Prefix{"/dev/disk/by-partuuid/", SpecMatch::kPartUuid},
                      Prefix{"/dev/disk/by-partlabel/", SpecMatch::kPartLabel}}) {
    std::string pre = p;
    if (spec.rfind(pre, 0) == 0) {
      std::string v = spec.substr(pre.size());
      if (pre.find("by-") != std::string::npos) v = UnescapeHex(v);
      if (k == SpecMatch::kUuid || k == SpecMatch::kPartUuid) v = Lower(v);
      return {k, v};
    }
  }
  if (auto number = KernelPartitionNumber(spec)) return {SpecMatch::kPartitionNumber, *number};
  return {SpecMatch::kUnknown, spec};
}

}  // namespace ka::golden
