#include "util/proc_filesystems.h"

#include <sstream>

namespace ka {

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
