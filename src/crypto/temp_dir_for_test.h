// TempDir: a scratch directory for the crypto room's unit tests, removed with
// everything in it at the end of the test; plus small file helpers.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ka::crypto {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ka-crypto-test.XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) path_ = tmpl;
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

  // Writes `content` to `rel` with exactly `mode`.
  std::string Write(const std::string& rel, const std::string& content, mode_t mode) const {
    const std::string p = *this / rel;
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    EXPECT_EQ(::chmod(p.c_str(), mode), 0) << p;
    return p;
  }

 private:
  std::string path_;
};

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline unsigned ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0xFFFF;
  return st.st_mode & 07777;
}

// Runs the body with the process umask set to `mask`, then restores it.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

}  // namespace ka::crypto
