// The filesystem types the running kernel knows (/proc/filesystems): the golden
// side asks whether it can mount a partition, the node whether it can make one.
#pragma once

#include <set>
#include <string>

#include "util/status.h"

namespace ka {

// The type names in such a text ("nodev\tproc" and "\text4" lines: the last word).
std::set<std::string> KernelFilesystems(const std::string& proc_filesystems_text);

}  // namespace ka
