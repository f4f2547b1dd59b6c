// TempTree: a scratch directory for node unit tests (a fake golden tree, a fake
// sysfs), removed with everything in it at the end of the test.
#pragma once

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace ka::node {

class TempTree {
 public:
  TempTree() {
    char tmpl[] = "/tmp/ka-node-test.XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) path_ = std::filesystem::canonical(tmpl).string();
    EXPECT_FALSE(path_.empty());
  }
  ~TempTree() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

  // Creates the file and its missing directories. A symlink already there is
  // replaced, never written through (a fake golden holds links to host paths such
  // as /etc/machine-id), and the directory must resolve inside the tree.
  void Write(const std::string& rel, const std::string& content, mode_t mode = 0644) const {
    const std::filesystem::path file = *this / rel;
    if (!Inside(file.parent_path(), "Write " + rel)) return;
    std::filesystem::create_directories(file.parent_path());
    ::unlink(file.c_str());
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      ADD_FAILURE() << "TempTree::Write: cannot create " << rel;
      return;
    }
    EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    EXPECT_EQ(::fchmod(fd, mode), 0);
    ::close(fd);
  }
  void Mkdir(const std::string& rel) const {
    if (Inside(*this / rel, "Mkdir " + rel)) std::filesystem::create_directories(*this / rel);
  }
  void Symlink(const std::string& target, const std::string& rel) const {
    if (!Inside(std::filesystem::path(*this / rel).parent_path(), "Symlink " + rel)) return;
    std::filesystem::create_directories(std::filesystem::path(*this / rel).parent_path());
    ::unlink((*this / rel).c_str());
    EXPECT_EQ(::symlink(target.c_str(), (*this / rel).c_str()), 0) << rel;
  }
  std::string Read(const std::string& rel) const {
    std::ifstream in(*this / rel, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // lstat: the entry itself exists (a dangling symlink counts).
  bool Exists(const std::string& rel) const {
    struct stat st;
    return ::lstat((*this / rel).c_str(), &st) == 0;
  }
  bool IsSymlink(const std::string& rel) const {
    struct stat st;
    return ::lstat((*this / rel).c_str(), &st) == 0 && S_ISLNK(st.st_mode);
  }
  mode_t Mode(const std::string& rel) const {
    struct stat st;
    return ::lstat((*this / rel).c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
  }
  // Every entry under `rel` (lstat, no link followed) -> type, mode and content or
  // link text: equal snapshots mean nothing changed.
  std::map<std::string, std::string> Snapshot(const std::string& rel = "") const {
    std::map<std::string, std::string> out;
    std::error_code ec;
    const std::string base = rel.empty() ? path_ : *this / rel;
    for (auto it = std::filesystem::recursive_directory_iterator(base, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      std::string p = it->path().string().substr(base.size());
      std::string r = p.empty() ? p : p.substr(1);
      std::string full = base + "/" + r;
      std::string v = std::to_string(Mode(full.substr(path_.size() + 1)));
      if (IsSymlink(full.substr(path_.size() + 1))) {
        v += " -> " + LinkText(full.substr(path_.size() + 1));
      } else if (it->is_regular_file()) {
        v += " " + Read(full.substr(path_.size() + 1));
      } else {
        v += " dir";
      }
      out[r] = v;
    }
    return out;
  }
  std::string LinkText(const std::string& rel) const {
    char buf[4096];
    ssize_t n = ::readlink((*this / rel).c_str(), buf, sizeof buf);
    return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
  }

 private:
  // True if `dir` (existing or not) resolves inside the tree: its existing part,
  // symlinks followed, must be the tree or below it.
  bool Inside(const std::filesystem::path& dir, const std::string& what) const {
    std::error_code ec;
    std::string real = std::filesystem::weakly_canonical(dir, ec).string();
    if (ec || (real != path_ && real.rfind(path_ + "/", 0) != 0)) {
      ADD_FAILURE() << "TempTree::" << what << ": resolves outside the tree (" << real << "); refused";
      return false;
    }
    return true;
  }
  std::string path_;
};

}  // namespace ka::node
