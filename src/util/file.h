// Whole-file reads and atomic whole-file writes (temporary file, fsync, rename).
#pragma once

#include <string>

#include "util/status.h"

namespace ka {

// Writes `content` to `path` through `path`.tmp and rename(2), with mode `mode`;
// on failure the temporary file is removed and `path` is left as it was.
Status WriteFileAtomic(const std::string& path, const std::string& content, unsigned mode = 0644);

// The whole file; Status::Io naming the path when it cannot be read.
Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace ka
