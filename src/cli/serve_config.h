// The `ka serve --config FILE` file (the seed's replication.conf in INI form) read into
// settings: "option = value" per line with the long option names ('_' or '-'), lists as
// ["a", "b"], # or ; comments, blank lines and a "[serve]" section header. Only the syntax
// is checked here; which keys are options of ka serve is up to the caller (clone_cmd.cc).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "util/status.h"

namespace ka::cli {

inline constexpr size_t kMaxServeConfigBytes = 1 << 20;

struct ConfigSetting {
  int line = 0;                     // 1-based line of the file
  std::string key;                  // "exclude", "hostname-template" ('_' written as '-')
  std::vector<std::string> values;  // one value, or the items of a ["a", "b"] list (maybe none)
};

// Parses the file's text. `file` names it in errors: "--config FILE line N: ...".
// A file larger than kMaxServeConfigBytes, a line without '=' or with an empty key is an error.
Result<std::vector<ConfigSetting>> ParseServeConfig(const std::string& text, const std::string& file);

}  // namespace ka::cli
