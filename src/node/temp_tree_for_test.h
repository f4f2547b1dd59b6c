// TempTree: a scratch directory for node unit tests (a fake golden tree, a fake
// sysfs), removed with everything in it at the end of the test.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ka::node {

class TempTree {
 public:
  TempTree() {
    char tmpl[] = "/tmp/ka-node-test.XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) path_ = tmpl;
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

  // Creates the file and its missing directories.
  void Write(const std::string& rel, const std::string& content, mode_t mode = 0644) const {
    std::filesystem::create_directories(std::filesystem::path(*this / rel).parent_path());
    std::ofstream(*this / rel, std::ios::binary | std::ios::trunc) << content;
    ::chmod((*this / rel).c_str(), mode);
  }
  void Mkdir(const std::string& rel) const { std::filesystem::create_directories(*this / rel); }
  void Symlink(const std::string& target, const std::string& rel) const {
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
  std::string LinkText(const std::string& rel) const {
    char buf[4096];
    ssize_t n = ::readlink((*this / rel).c_str(), buf, sizeof buf);
    return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
  }

 private:
  std::string path_;
};

}  // namespace ka::node
