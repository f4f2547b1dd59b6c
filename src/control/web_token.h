// The dashboard's token and the file it lives in (`--web-token-file`), so that the
// token never has to appear in a log line: logs name the file
// (WebServer::UrlForLog), the operator reads the token from it. The file is the
// token's only copy on disk and is kept mode 0600.
#pragma once

#include <string>

#include "util/status.h"

namespace ka::control {

struct WebToken {
  std::string token;
  std::string file;      // where the token is (empty: nowhere on disk)
  bool created = false;  // a new token was written to `file`
  std::string warning;   // e.g. the file is readable by others (chmod 600 FILE); empty if none
};

// `token_file` given: its first line, surrounding blanks removed; a missing or empty
// file gets a new token (NewToken()), written with mode 0600 (an existing empty file
// is set to 0600 first). An existing token in a file others may read is used, with
// a warning. Without `token_file`: a new token, written to `fallback_dir`/web-token
// (0600) when `fallback_dir` (the session directory) is given, else kept in memory.
Result<WebToken> LoadOrCreateWebToken(const std::string& token_file, const std::string& fallback_dir);

}  // namespace ka::control
