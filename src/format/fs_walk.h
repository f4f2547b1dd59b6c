// Small filesystem helpers shared by the tree writer (golden) and the tree manifest: where an
// entry lives (device and mount id, to stay on one filesystem), stat of a path of any
// length below a root, and the hole rule both sides agree on.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>

#include "util/fd.h"
#include "util/status.h"

namespace ka::format {

struct FsIdentity {
  uint64_t dev = 0;
  uint64_t mnt_id = 0;  // statx STATX_MNT_ID; 0 if the kernel does not report it
  bool operator==(const FsIdentity&) const = default;
};

// Device and mount of `rel` (relative to the directory `dirfd`, "" or "." for
// dirfd itself), without following a final symlink. Paths longer than PATH_MAX
// are resolved one component at a time.
Result<FsIdentity> FsIdentityAt(int dirfd, const std::string& rel);

// lstat of `rel` below `dirfd`, for paths of any length.
Result<struct stat> LstatAt(int dirfd, const std::string& rel);

// True if the file may hold holes worth keeping: fewer bytes allocated than its
// logical size. Files failing this are treated as fully allocated everywhere (their
// unwritten extents are stored and compared as zeros).
inline bool MayBeSparse(const struct stat& st) {
  return S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_blocks) * 512 < static_cast<uint64_t>(st.st_size);
}

// "tmp", "var/cache/apt" from "./tmp/", "/var/cache/apt"; "." for the root.
std::string NormalizeRelativePath(const std::string& path);

}  // namespace ka::format
