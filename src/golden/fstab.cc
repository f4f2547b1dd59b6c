#include "golden/fstab.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <sstream>

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
  static const std::regex kernel(
      R"re(^/dev/(?:(?:[shv]|xv)d[a-z]+(\d+)|(?:nvme\d+n\d+|mmcblk\d+|loop\d+)p(\d+))$)re");
  std::smatch m;
  if (std::regex_match(spec, m, kernel)) return {SpecMatch::kPartitionNumber, m[1].matched ? m[1].str() : m[2].str()};
  return {SpecMatch::kUnknown, spec};
}

}  // namespace ka::golden
