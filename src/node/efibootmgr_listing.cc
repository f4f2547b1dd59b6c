#include "node/efibootmgr_listing.h"

#include <cctype>
#include <sstream>

namespace ka::node {
namespace {

constexpr size_t kMaxLine = 64 * 1024;
constexpr size_t kMaxEntries = 4096;

Result<uint16_t> Hex4(const std::string& s) {
  if (s.size() != 4) return Status::Invalid("efibootmgr: '" + s.substr(0, 16) + "' is not a 4-digit boot number");
  unsigned v = 0;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return Status::Invalid("efibootmgr: '" + s + "' is not a 4-digit boot number");
    v = v * 16 +
        static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10);
  }
  return static_cast<uint16_t>(v);
}

std::string Trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

}  // namespace

Result<EfiBootState> ParseEfibootmgr(const std::string& text) {
  EfiBootState st;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > kMaxLine) return Status::Invalid("efibootmgr: a line of over 64 KiB");
    if (line.rfind("BootOrder:", 0) == 0) {
      st.order.clear();
      std::string list = Trimmed(line.substr(10));
      std::istringstream items(list);
      for (std::string item; std::getline(items, item, ',');) {
        if (st.order.size() >= kMaxEntries) return Status::Invalid("efibootmgr: over 4096 entries in BootOrder");
        auto n = Hex4(Trimmed(item));
        if (!n.ok()) return n.status();
        st.order.push_back(*n);
      }
      continue;
    }
    // "Boot0003* label": four hex digits, then '*' (active) or a space; BootCurrent, BootNext... are not entries.
    if (line.size() < 9 || line.rfind("Boot", 0) != 0 || (line[8] != '*' && line[8] != ' ')) continue;
    auto n = Hex4(line.substr(4, 4));
    if (!n.ok()) return n.status();
    EfiBootEntry e;
    e.number = *n;
    size_t pos = 8;
    if (pos < line.size() && line[pos] == '*') e.active = true, ++pos;
    std::string rest = line.substr(pos);
    size_t tab = rest.find('\t');
    e.label = Trimmed(tab == std::string::npos ? rest : rest.substr(0, tab));
    if (st.entries.size() >= kMaxEntries) return Status::Invalid("efibootmgr: over 4096 boot entries");
    st.entries.push_back(e);
  }
  return st;
}

}  // namespace ka::node
