#include "golden/mountinfo.h"

#include <fstream>
#include <sstream>

namespace ka::golden {

namespace {
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}
}  // namespace

bool MountEntry::read_only() const {
  std::istringstream in(options);
  for (std::string o; std::getline(in, o, ',');)
    if (o == "ro") return true;
  return false;
}

Result<std::vector<MountEntry>> ParseMountInfo(const std::string& text) {
  std::vector<MountEntry> out;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    std::istringstream f(line);
    std::vector<std::string> w;
    for (std::string x; f >> x;) w.push_back(x);
    size_t dash = 0;
    for (size_t i = 6; i < w.size(); ++i)
      if (w[i] == "-") {
        dash = i;
        break;
      }
    if (dash == 0 || dash + 2 >= w.size())
      return Status::Invalid("malformed mountinfo line " + std::to_string(n) + ": " + line);
    MountEntry e;
    if (std::sscanf(w[2].c_str(), "%u:%u", &e.major, &e.minor) != 2)
      return Status::Invalid("malformed device number in mountinfo line " + std::to_string(n));
    e.root = Unescape(w[3]);
    e.mount_point = Unescape(w[4]);
    e.options = w[5];
    e.type = w[dash + 1];
    e.source = Unescape(w[dash + 2]);
    out.push_back(e);
  }
  return out;
}

Result<std::vector<MountEntry>> ReadMountInfo() {
  std::ifstream f("/proc/self/mountinfo");
  if (!f) return Status::Io("cannot read /proc/self/mountinfo (is /proc mounted?)");
  std::stringstream ss;
  ss << f.rdbuf();
  return ParseMountInfo(ss.str());
}

}  // namespace ka::golden
