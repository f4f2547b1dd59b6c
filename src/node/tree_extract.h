// The node side of a file-level clone: unpacks a zstd-compressed pax tar stream
// (as made by golden::WriteTree, or by GNU tar --create --sparse --xattrs --acls
// --zstd) into a directory, typically a freshly made and mounted filesystem.
//
// Restored: owners as the archive's numeric uid/gid (user and group names in the
// archive are ignored, never looked up in this machine's /etc/passwd), modes incl.
// setuid/setgid/sticky, mtimes and atimes with nanoseconds for files, directories
// and symlinks, hardlinks, symlinks, devices, fifos, sparse files (exactly the
// archive's holes; blocks of zeros that were stored are written, not punched),
// xattrs of all namespaces, security.capability (set after the chown and the data,
// which would otherwise drop it), POSIX ACLs (access and default, numeric ids),
// file flags. Directories get their final mode, times, ACLs and flags after their
// contents, so read-only or immutable directories and default ACLs work (children
// keep the ACLs of the archive instead of inheriting the new default ACL).
//
// Security: entries with absolute paths or ".." components, hardlinks pointing
// outside, and entries that would be written through a symlink are refused: the
// whole extraction fails with Status::Refused naming the entry.
//
// The extraction runs in a helper thread with its own working directory
// (unshare(CLONE_FS)) set to `root`, so libarchive's relative paths, its chdir for
// very long paths and its umask juggling never touch the rest of the process.
#pragma once

#include <cstdint>
#include <string>

#include "util/status.h"

namespace ka::node {

struct ExtractStats {
  uint64_t entries = 0;  // archive entries extracted
  uint64_t bytes = 0;    // file data bytes written (holes excluded)
};

// Reads the archive from `fd` strictly sequentially until EOF (a pipe is fine) and
// extracts it under `root` (an existing directory). A truncated or corrupt archive
// is Status::Corruption naming the entry reached; entries already extracted stay.
// On any error it stops reading at once: close `fd` then, so that whoever writes
// into the other end of a pipe gets EPIPE instead of blocking.
Result<ExtractStats> ExtractTree(int fd, const std::string& root);

}  // namespace ka::node
