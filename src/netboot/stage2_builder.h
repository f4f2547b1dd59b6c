// Stage2: the tools a node needs to partition, format and make bootable its disks
// (util-linux, e2fsprogs, xfsprogs, btrfs-progs, dosfstools, grub), with their
// libraries and grub's module directories, as a ka tree archive (zstd pax, what
// `ka tree-archive` writes). Every path is absolute from the node's root and under
// /usr (the node extracts it over its stage1 root; busybox's /bin and /sbin links
// are not touched, and PATH puts /usr first).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "golden/tree_writer.h"
#include "os/env.h"

namespace ka::netboot {

struct Stage2Tool {
  const char* name;
  const char* package;  // the Debian package to install when it is missing
  bool required;
};
// The tools stage2 holds.
const std::vector<Stage2Tool>& Stage2Tools();
// Host directories copied whole (grub's platform modules and data).
const std::vector<std::string>& Stage2Directories();

struct Stage2Options {
  std::string staging_dir;  // scratch directory (must not exist)
  int64_t mtime = 0;        // of every entry
  int zstd_level = 19;
  int zstd_threads = 2;
};

struct Stage2Result {
  golden::TreeWriteStats stats;
  std::map<std::string, std::string> sources;  // image path -> host path
  std::vector<std::string> skipped;            // optional tools not installed on the host
};

// Fails up front, naming the package, if a required tool is missing.
Status CheckStage2Tools(os::Env& runner);

Result<Stage2Result> BuildStage2(os::Env& runner, const Stage2Options& options, const std::string& output);

}  // namespace ka::netboot
