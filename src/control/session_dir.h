// The session directory's privacy (docs/control.md): the directory and its logs/
// are 0700 and every file in them 0600 (server.log, logs/NODE.log, report.json),
// whatever the umask, because node logs and the server's log can hold anything a
// node or a command printed. SessionState uses these; so should any other writer
// of a file there.
#pragma once

#include <string>

#include "util/fd.h"
#include "util/status.h"

namespace ka::control {

// Creates `dir` with mode 0700 (missing parents with the usual mode). A directory
// that already exists keeps its mode; if group or others may enter it, `*warning`
// (when given) says so and how to fix it (chmod 700 DIR). Not a directory: error.
Status MakePrivateDir(const std::string& dir, std::string* warning = nullptr);

// Opens `path` for appending, creating it; its mode is set to 0600 either way.
// A symlink at `path` is refused (O_NOFOLLOW).
Result<UniqueFd> OpenPrivateAppend(const std::string& path);

// DIR (0700), DIR/logs (0700), and an empty DIR/server.log (0600) for the server's
// own log sink to append to, so that file is private too. Warnings as for MakePrivateDir.
Status PrepareSessionDir(const std::string& dir, std::string* warning = nullptr);

// DIR/server.log.
std::string ServerLogPath(const std::string& dir);

}  // namespace ka::control
