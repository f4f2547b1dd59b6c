// The golden side of a file-level clone: one filesystem's tree as a pax tar archive
// (libarchive) compressed with zstd, streamed strictly sequentially to a sink. The
// zstd stream is one frame with a content checksum (libzstd directly, since
// libarchive's zstd filter writes none), so `zstd -d`, `tar --zstd -x` and
// ExtractTree all detect corruption, not only truncation.
//
// What the archive holds, per entry (pax "interchange" format, one extended header
// per entry):
//  - paths relative to the root, plain: "./" for the root directory itself, then
//    "etc/", "etc/passwd", ... (no "./" prefix otherwise, no leading '/'; tar's
//    trailing '/' on directories); names are raw bytes
//    (hdrcharset=BINARY), so non-UTF-8 names survive whatever the locale;
//  - numeric uid/gid only (no user or group names: nothing is remapped anywhere);
//  - mode with setuid/setgid/sticky, mtime/atime/ctime with nanoseconds;
//  - regular files (sparse ones as pax sparse 1.0 with their data map: holes are
//    not stored), hardlinks (first name carries the data), symlinks (never
//    followed), char/block devices, fifos;
//  - all xattrs (user.*, trusted.*, security.* incl. security.capability), POSIX
//    ACLs (access and default, numeric ids), file flags (chattr).
// Sockets cannot be stored in tar: they are skipped and counted. Paths of PATH_MAX
// (4096) bytes or more are refused (libarchive 3.6.2 cannot restore their metadata).
//
// Holes: a file is stored sparse when libarchive finds holes (SEEK_HOLE) AND its
// allocated size (st_blocks * 512) is below its logical size. A fully allocated
// file whose extents are merely unwritten (fallocate, e.g. a swap file) reads as
// holes through SEEK_HOLE but is stored with its zeros, so the clone stays fully
// allocated (swapon refuses files with holes). Allocated blocks of zeros stay
// allocated too (no ARCHIVE_EXTRACT_SPARSE-style hole punching on either side).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "util/status.h"

namespace ka::golden {

struct TreeWriteOptions {
  // Paths relative to root ("tmp", "var/cache/apt"; a leading "./" or '/' and
  // trailing '/' are ignored). A directory named here is archived itself (owner,
  // mode, times, xattrs) but none of its contents; any other kind of entry named
  // here is left out entirely.
  std::vector<std::string> exclude;
  int zstd_level = 3;
  int zstd_threads = 0;  // 0: compress in the calling thread; >0: that many zstd worker threads
  // Do not descend into directories on another filesystem or mount (also bind
  // mounts of the same filesystem); the mount point directory itself is archived.
  bool one_file_system = true;
  // Same tree contents, same bytes: leave out access, change and birth times and
  // device/inode numbers (for build artefacts such as netboot's stage2; a clone
  // keeps them all).
  bool reproducible = false;
  // The tree is a running system's (`ka serve --source /`) and may change while it
  // is read. A file that vanishes before it is read is left out; one that vanishes
  // while it is read is stored with zeros for what could not be read; and every
  // file whose size, modification or change time is not the same after its data
  // was read as when its header was written is listed in TreeWriteStats::changed.
  // None of this fails the archive (docs/clone.md, "A running golden").
  bool live = false;
  // Tests: called after a regular file's data was read, before it is checked again.
  std::function<void(const std::string& rel)> after_read;
};

// A file of a live tree that changed while it was archived.
struct ChangedEntry {
  std::string path;  // relative to the root
  std::string what;  // "vanished before it was read", "size 10 -> 12 while read", "modified while read"
};
constexpr size_t kMaxChangedListed = 1000;  // TreeWriteStats::changed keeps the first ones

struct TreeWriteStats {
  uint64_t entries = 0;          // archive entries written
  uint64_t file_bytes = 0;       // logical sizes of regular files (each inode once)
  uint64_t data_bytes = 0;       // bytes of file data actually read (holes excluded)
  uint64_t archive_bytes = 0;    // compressed bytes handed to the sink
  uint64_t skipped_sockets = 0;  // sockets found and not archived
  uint64_t changed_count = 0;    // live trees: files that changed while read (all of them)
  std::vector<ChangedEntry> changed;  // the first kMaxChangedListed of them
};

// Receives the compressed archive in order; a non-ok Status aborts WriteTree at
// once (the sink is not called again) and is returned as is.
using Sink = std::function<Status(const void* data, size_t n)>;

// Archives the tree under `root` (a directory; a symlink given as root is
// followed, nothing below it is) to `sink`. Any entry that cannot be read fully
// (unreadable file, xattrs, ACLs) is an error naming it: nothing is skipped
// silently.
Result<TreeWriteStats> WriteTree(const std::string& root, const TreeWriteOptions& options, const Sink& sink);

}  // namespace ka::golden
