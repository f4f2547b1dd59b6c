// Files that hold keys and secrets: created only where nothing exists yet
// (O_EXCL, never replacing a file), with an exact mode whatever the umask, and
// read back together with their permission bits so callers can refuse a file
// that others may read. Used by key_file and secret_file.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace ka::crypto {

// Creates `path` with exactly `mode` and `content`, fsynced. An existing file (or
// symlink) at `path` is an error naming it, and is left alone; on any other failure
// the partly written file is removed.
Status WriteNewFile(const std::string& path, std::string_view content, unsigned mode);

struct PrivateFile {
  std::string content;
  unsigned mode = 0;  // permission bits (st_mode & 07777) of the file read
};

// Reads the regular file `path` (at most `max_bytes`; a larger file is an error)
// and its mode, both from the same open file. `what` names the file in errors
// ("key file", "secret file").
Result<PrivateFile> ReadPrivateFile(const std::string& path, size_t max_bytes, const std::string& what);

// "0644" for 0644.
std::string ModeString(unsigned mode);

}  // namespace ka::crypto
