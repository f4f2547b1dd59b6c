#include "util/proc_filesystems.h"

#include <fstream>
#include <sstream>

namespace ka {

Result<std::string> ReadProcFilesystems() {
  std::ifstream in("/proc/filesystems");
  if (!in) return Status::Io("cannot read /proc/filesystems: is /proc mounted?");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::set<std::string> KernelFilesystems(const std::string& text) {
  std::set<std::string> names;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string w, last;
    while (words >> w) last = w;
    if (!last.empty()) names.insert(last);
  }
  return names;
}

}  // namespace ka
