// RootFs: the files of a system tree extracted under ROOT, reached the way a process
// chrooted into ROOT would reach them: ".." stops at ROOT and an absolute symlink
// (/etc/resolv.conf -> /run/systemd/resolve/stub-resolv.conf) restarts at ROOT, so no
// path or symlink of the image can lead outside it. Resolution walks one component
// at a time with lstat; every directory on the way is a real directory, so the host
// path it returns holds no symlink except, when asked for, the final one.
//
// ROOT is ka's private target directory: nothing else changes it while the node
// steps run, so resolving first and then acting on the host path is safe.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace ka::node {

class RootFs {
 public:
  // ROOT must be an existing directory; it is resolved (realpath) once here.
  static Result<RootFs> Open(const std::string& root);
  const std::string& root() const { return root_; }

  struct Entry {
    std::string rel;                // path relative to ROOT after resolution ("etc/hostname"; "" is ROOT)
    std::string host;               // the same on the host: ROOT/rel
    bool exists = false;            // the final component exists
    bool parent_exists = false;     // its directory exists
    bool symlink_followed = false;  // resolution went through a symlink
    struct stat st {};              // lstat of the final component, when it exists
    bool is_file() const { return exists && S_ISREG(st.st_mode); }
    bool is_dir() const { return exists && S_ISDIR(st.st_mode); }
    bool is_symlink() const { return exists && S_ISLNK(st.st_mode); }
  };

  // `path` is taken inside ROOT whether or not it starts with "/". With follow_last
  // false a final symlink is the result itself (to remove or replace the link).
  // Errors: a symlink loop (more than 40 links), a non-directory in the middle.
  Result<Entry> Resolve(const std::string& path, bool follow_last = true) const;

  // After following symlinks in ROOT: a regular file / a directory / anything.
  bool IsFile(const std::string& path) const;
  bool IsDir(const std::string& path) const;
  bool Exists(const std::string& path) const;

  // The content of a regular file; nullopt when there is none (error: not a regular file).
  Result<std::optional<std::string>> Read(const std::string& path) const;
  // Replaces the content of the regular file `path` resolves to, in place: its
  // mode, owner, ACLs and security labels stay. A missing file is created with
  // `mode` (exactly, umask aside) in its existing directory. True if anything changed.
  Result<bool> Write(const std::string& path, const std::string& content, mode_t mode) const;
  // Sets the permission bits of what `path` resolves to; true if they changed.
  Result<bool> Chmod(const std::string& path, mode_t mode) const;
  // Creates the missing directories of `path` with `mode`; true if any was created.
  Result<bool> MakeDirs(const std::string& path, mode_t mode) const;
  // Removes the entry `path` names (a final symlink itself, never its target);
  // directories are refused. True if something was removed.
  Result<bool> Remove(const std::string& path) const;
  // Removes a directory with everything in it (symlinks inside are removed, not
  // followed), or a single non-directory entry. True if something was removed.
  Result<bool> RemoveTree(const std::string& path) const;
  // Entry names of a directory (after following symlinks), sorted; empty if absent.
  Result<std::vector<std::string>> List(const std::string& dir) const;
  // Makes `path` a symlink to `target` (the link text, as-is): creates it, or
  // replaces a symlink with another text. True if anything changed.
  Result<bool> Symlink(const std::string& target, const std::string& path) const;
  // The text of the symlink `path` names; nullopt if it is not a symlink.
  std::optional<std::string> ReadLink(const std::string& path) const;

 private:
  explicit RootFs(std::string root) : root_(std::move(root)) {}
  std::string HostPath(const std::string& rel) const;
  std::string root_;
};

// "/" + rel: how reports and messages name a path inside the image.
std::string InImage(const std::string& rel);

}  // namespace ka::node
