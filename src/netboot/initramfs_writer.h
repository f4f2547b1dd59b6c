// Initramfs images: InitramfsWriter and MakeSecretImage (ka/secret.img).
//
// InitramfsWriter: a Linux initramfs (cpio "newc", compressed) written with
// libarchive, reproducibly: entries sorted by path, every mtime the same fixed
// value, uid/gid 0, inode numbers 1, 2, ... in path order, device numbers 0,
// nlink 1 (2 for directories), no hardlinks. The same entries and file contents
// give the same bytes.
//
// Compression: zstd (the kernel's CONFIG_RD_ZSTD; Debian 12 has it) by default,
// gzip (CONFIG_RD_GZIP, no timestamp in its header) for kernels without it, or none.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "util/status.h"

namespace ka::netboot {

enum class InitramfsCompression { kZstd, kGzip, kNone };

struct InitramfsOptions {
  InitramfsCompression compression = InitramfsCompression::kZstd;
  int level = 19;         // zstd 1..19, gzip 1..9
  int64_t mtime = 0;      // of every entry (seconds since the epoch)
};

struct InitramfsStats {
  uint64_t entries = 0;
  uint64_t data_bytes = 0;     // file contents before compression
  uint64_t archive_bytes = 0;  // the written file
};

class InitramfsWriter {
 public:
  // Paths are absolute in the image ("/usr/bin/ka") or relative to its root;
  // missing parent directories are added (0755). Adding a path again replaces it.
  void AddDirectory(const std::string& path, uint32_t mode = 0755);
  void AddFile(const std::string& path, const std::string& host_file, uint32_t mode);  // contents read at Write
  void AddData(const std::string& path, std::string data, uint32_t mode);
  void AddSymlink(const std::string& path, const std::string& target);
  void AddCharDevice(const std::string& path, uint32_t mode, unsigned major, unsigned minor);
  // Every directory, regular file and symlink under host directory `root`, at the
  // same path in the image, with its permission bits (owner and times are not
  // kept). Anything else (device, fifo, socket) is an error.
  Status AddTree(const std::string& root);

  size_t size() const { return entries_.size(); }
  Result<InitramfsStats> Write(const std::string& output, const InitramfsOptions& options) const;

 private:
  enum class Kind { kDirectory, kFile, kSymlink, kCharDevice };
  struct Entry {
    Kind kind = Kind::kFile;
    uint32_t mode = 0;
    std::string host_file;  // kFile: read from here, unless empty (then data)
    std::string data;       // kFile contents / kSymlink target
    unsigned major = 0, minor = 0;
  };
  void Put(const std::string& path, Entry e);
  std::map<std::string, Entry> entries_;  // by relative path ("usr/bin/ka"), sorted
};

// ka/secret.img: a cpio (newc) archive holding etc/ka/secret, loaded by the kernel as a
// second initramfs so stage1 finds the session secret. TFTP is unauthenticated: anyone on the
// boot network can fetch it. The archive's bytes: directories etc and etc/ka (0755),
// etc/ka/secret (0600) with `secret` as content, uncompressed.
Result<std::string> MakeSecretImage(const std::string& secret);

}  // namespace ka::netboot
