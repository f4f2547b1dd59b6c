// StagingTree: a directory on the build host assembled into what a netboot image
// holds (stage1's root, stage2's tree). Host binaries and libraries go under /usr
// (merged-/usr placement, see lib_closure.h); symlinks are recreated as symlinks
// and their targets installed too. Remembers which host path each image path
// came from, for build.json's package list.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "os/env.h"
#include "util/status.h"

namespace ka::netboot {

class StagingTree {
 public:
  explicit StagingTree(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }

  // A host program, library or data file at UsrPath(host) in the image; a symlink
  // is recreated and what it points to installed as well. ELF files with dynamic
  // linking are remembered for InstallLibraries.
  Status InstallHostPath(const std::string& host);
  // A host directory, recursively, at UsrPath(dir).
  Status InstallHostDirectory(const std::string& dir);
  // A host file at a chosen image path (contents copied, `mode`).
  Status InstallFileAs(const std::string& host, const std::string& image_path, uint32_t mode);
  // Text at an image path.
  Status WriteFile(const std::string& image_path, const std::string& text, uint32_t mode);
  Status MakeDirectory(const std::string& image_path, uint32_t mode = 0755);
  Status MakeSymlink(const std::string& image_path, const std::string& target);
  // The shared libraries of every dynamic binary installed so far (ldd), installed.
  Status InstallLibraries(os::Env& runner);
  // Every entry's mtime (symlinks too) set to `mtime`: a reproducible tree.
  Status SetAllTimes(int64_t mtime);

  // Image path -> host path of each file or symlink installed from the host.
  const std::map<std::string, std::string>& sources() const { return sources_; }

 private:
  std::string Host(const std::string& image_path) const { return root_ + image_path; }
  std::string root_;
  std::map<std::string, std::string> sources_;
  std::set<std::string> dynamic_;  // host paths of dynamic ELF files
};

}  // namespace ka::netboot
