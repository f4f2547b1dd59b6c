// A deterministic text manifest of a directory tree, to check that a clone matches
// its golden (two manifests are equal iff the trees are equal in everything a clone
// must preserve).
//
// One line per entry, sorted by the path's bytes, fields separated by one space:
//   PATH TYPE mode=MODE uid=UID gid=GID [size=N] mtime=S.NNNNNNNNN [fields...]
// PATH: relative to the root, "." for the root itself, escaped with EscapeBytes
//   (printable ASCII as is, '\\' doubled, anything else incl. space and newline as
//   \xHH), so any byte is representable and a line never contains a raw space or
//   newline inside a field.
// TYPE: d directory, f regular file, l symlink, c char device, b block device,
//   p fifo. Sockets are not listed (tar cannot carry them; clones have none).
// MODE: octal with setuid/setgid/sticky (e.g. 4755, 1777).
// size: for everything except directories. Directory sizes depend on the
//   filesystem's history (a fresh ext4 directory is smaller than a golden one that
//   once held many entries), so they are left out.
// mtime: seconds.nanoseconds, for every type including directories and symlinks.
// Then, where they apply:
//   hash=HEX     regular files: BLAKE2b-256 (libsodium crypto_generichash) over the
//                logical content in 64 KiB blocks, where a block of zeros counts as
//                a marker instead of its bytes (so holes need not be read). Equal
//                contents give equal hashes whatever the hole layout; it is NOT
//                the b2sum of the file. Left out with hash_content = false.
//   data=OFF+LEN,...  regular files that have holes: their data ranges (SEEK_DATA/
//                SEEK_HOLE). Only for files with fewer allocated bytes
//                (st_blocks * 512) than their size AND at least one hole; a fully
//                allocated file is shown without (its unwritten extents are
//                zeros, and block counts of small files differ between
//                filesystems). "data=-": a file that is one hole.
//   target=ESCAPED  symlinks.
//   rdev=MAJOR:MINOR  devices.
//   flags=0xHEX  chattr flags among append-only, immutable, nodump and noatime
//                (other flags, like extents or inline data, belong to the filesystem).
//   xattr=NAME:HASH,...  every extended attribute, sorted by name, with the first
//                16 bytes of the BLAKE2b of its value: user.*, trusted.*,
//                security.* (incl. security.capability) and the POSIX ACLs as their
//                raw system.posix_acl_access / system.posix_acl_default values.
//   link=ESCAPED  hardlinks: all names of an inode that has more than one name in
//                the listed tree get the same key, its smallest path.
// Never listed: inode numbers, link counts, ctime, atime, st_blocks, st_dev.
// lost+found is listed like any directory (a golden ext4 has one, so does a fresh
// ext4 clone; extraction gives it the golden's metadata).
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace ka::format {

struct ManifestOptions {
  // Directories (relative to root, as in TreeWriteOptions::exclude) that are listed
  // but not their contents; any other kind of entry named here is not listed.
  std::vector<std::string> exclude_contents;
  // Do not descend into directories on another filesystem or mount (incl. bind
  // mounts); the mount point itself is listed.
  bool one_file_system = true;
  bool hash_content = true;
};

// The manifest of the tree under `root` (a symlink given as root is followed,
// nothing below it is). Unreadable entries are errors naming them.
Result<std::string> TreeManifest(const std::string& root, const ManifestOptions& options);

}  // namespace ka::format
