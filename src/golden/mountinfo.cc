#include "golden/mountinfo.h"

#include <fstream>
#include <sstream>

#include "util/strings.h"

namespace ka::golden {

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
    e.root = UnescapeOctal(w[3]);
    e.mount_point = UnescapeOctal(w[4]);
    e.options = w[5];
    e.type = w[dash + 1];
    e.source = UnescapeOctal(w[dash + 2]);
    out.push_back(e);
  }
  return out;
}

Result<std::vector<MountEntry>> ReadMountInfo(os::Env& env) {
  auto text = env.ReadFile("/proc/self/mountinfo");
  if (!text.ok()) return Status::Io(text.status().message() + " (is /proc mounted?)");
  return ParseMountInfo(*text);
}

}  // namespace ka::golden
