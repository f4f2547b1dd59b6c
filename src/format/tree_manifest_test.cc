// TreeManifest: the line of each kind of entry, escaping, what changes it and what
// must not (atime, hole layout of equal content), exclusions and mounts.
#include "format/tree_manifest.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "testing/tree_test_util.h"

namespace ka::format {
namespace {

using treetest::TempDir;

std::string M(const std::string& root, ManifestOptions o = {}) {
  auto m = TreeManifest(root, o);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? *m : std::string();
}

// The line of `path` (escaped), without the trailing newline; "" if not listed.
std::string Line(const std::string& manifest, const std::string& path) {
  std::istringstream in(manifest);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(path + " ", 0) == 0) return line;
  return "";
}

TEST(TreeManifest, OneLinePerEntrySorted) {
  TempDir t;
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(::chmod(t.path().c_str(), 0751), 0);
  ASSERT_EQ(::mkdir((t / "dir").c_str(), 0750), 0);
  treetest::WriteFile(t / "dir/file", "abc", 0640);
  ASSERT_EQ(::chmod((t / "dir/file").c_str(), 04640), 0);
  ASSERT_EQ(::symlink("dir/file", (t / "sym").c_str()), 0);
  ASSERT_EQ(::mkfifo((t / "fifo").c_str(), 0600), 0);
  ASSERT_EQ(::link((t / "dir/file").c_str(), (t / "a-link").c_str()), 0);
  treetest::SetTimes(t / "dir/file", 1700000000, 5);
  treetest::SetTimes(t / "sym", 1600000000, 999999999);
  treetest::SetTimes(t / "dir", 1500000000, 42);
  treetest::SetTimes(t.path(), 1400000000, 1);
  const std::string m = M(t.path());

  std::istringstream in(m);
  std::vector<std::string> paths;
  std::string line;
  while (std::getline(in, line)) paths.push_back(line.substr(0, line.find(' ')));
  EXPECT_EQ(paths, (std::vector<std::string>{".", "a-link", "dir", "dir/file", "fifo", "sym"}));

  const std::string uid = std::to_string(::getuid()), gid = std::to_string(::getgid());
  EXPECT_EQ(Line(m, "."), ". d mode=0751 uid=" + uid + " gid=" + gid + " mtime=1400000000.000000001");
  EXPECT_EQ(Line(m, "dir"), "dir d mode=0750 uid=" + uid + " gid=" + gid + " mtime=1500000000.000000042");
  EXPECT_EQ(Line(m, "dir/file").substr(0, Line(m, "dir/file").find(" hash=")),
            "dir/file f mode=4640 uid=" + uid + " gid=" + gid + " size=3 mtime=1700000000.000000005");
  EXPECT_NE(Line(m, "dir/file").find(" link=a-link"), std::string::npos);  // smallest name of the inode
  EXPECT_NE(Line(m, "a-link").find(" link=a-link"), std::string::npos);
  EXPECT_EQ(Line(m, "sym"),
            "sym l mode=0777 uid=" + uid + " gid=" + gid + " size=8 mtime=1600000000.999999999 target=dir/file");
  EXPECT_EQ(Line(m, "fifo").substr(0, 16), "fifo p mode=0600");
  // Deterministic.
  EXPECT_EQ(m, M(t.path()));
}

TEST(TreeManifest, EscapesAnyByte) {
  TempDir t;
  ASSERT_TRUE(t.ok());
  treetest::WriteFiles(t.path(), {{"a b", ""}, {"new\nline", ""}, {"back\\slash", ""}, {"\xff\xc3\xa9", ""}});
  ASSERT_EQ(::symlink("target with space\n", (t / "-dash").c_str()), 0);
  const std::string m = M(t.path());
  EXPECT_NE(Line(m, "a\\x20b"), "");
  EXPECT_NE(Line(m, "new\\x0aline"), "");
  EXPECT_NE(Line(m, "back\\\\slash"), "");
  EXPECT_NE(Line(m, "\\xff\\xc3\\xa9"), "");
  EXPECT_NE(Line(m, "-dash").find(" target=target\\x20with\\x20space\\x0a"), std::string::npos);
  // Six lines: the root and five entries, no raw newline inside one.
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 6);
}

TEST(TreeManifest, DevicesXattrsAclsCapabilitiesAndFlags) {
  if (!treetest::IsRoot()) GTEST_SKIP() << "needs root (mknod, trusted.*, security.capability)";
  TempDir t;
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(::mknod((t / "blk").c_str(), S_IFBLK | 0600, makedev(8, 17)), 0);
  treetest::WriteFile(t / "f", "x");
  treetest::SetXattr(t / "f", "user.b", "2");
  treetest::SetXattr(t / "f", "user.a", "1");
  treetest::SetXattr(t / "f", "trusted.t", "3");
  treetest::SetXattr(t / "f", "security.capability", treetest::CapabilityValue());
  treetest::Run({"/usr/bin/setfacl", "-m", "u:1234:r", t / "f"});
  treetest::SetFlags(t / "f", FS_NODUMP_FL);
  std::string m = M(t.path());
  EXPECT_NE(Line(m, "blk").find(" rdev=8:17"), std::string::npos);
  const std::string f = Line(m, "f");
  size_t x = f.find(" xattr=");
  ASSERT_NE(x, std::string::npos) << f;
  for (const char* n : {"security.capability:", "system.posix_acl_access:", "trusted.t:", "user.a:", "user.b:"})
    EXPECT_NE(f.find(n, x), std::string::npos) << n << " in " << f;
  // Sorted by name.
  EXPECT_LT(f.find("security.capability:"), f.find("system.posix_acl_access:"));
  EXPECT_LT(f.find("trusted.t:"), f.find("user.a:"));
  EXPECT_LT(f.find("user.a:"), f.find("user.b:"));
  EXPECT_NE(f.find(" flags=0x40"), std::string::npos) << f;

  // Each of those changes the manifest.
  std::string other_caps = treetest::CapabilityValue();
  other_caps[5] = 0x20;  // permitted: cap_net_raw only (bit 13), without cap_net_bind_service (bit 10)
  treetest::SetXattr(t / "f", "security.capability", other_caps);
  std::string m2 = M(t.path());
  EXPECT_NE(m, m2);
  treetest::Run({"/usr/bin/setfacl", "-m", "u:1234:rw", t / "f"});
  std::string m3 = M(t.path());
  EXPECT_NE(m2, m3);
}

TEST(TreeManifest, SeesWhatACloneMustKeepAndIgnoresAtime) {
  TempDir t;
  ASSERT_TRUE(t.ok());
  treetest::WriteFile(t / "f", "content");
  treetest::SetTimes(t / "f", 1600000000, 1);
  const std::string base = M(t.path());
  // atime (and ctime) are not listed.
  struct timespec ts[2] = {{1234, 0}, {0, UTIME_OMIT}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (t / "f").c_str(), ts, 0), 0);
  EXPECT_EQ(M(t.path()), base);
  // Mode, mtime (even 1 ns), content (same size), an xattr: all show.
  ASSERT_EQ(::chmod((t / "f").c_str(), 0600), 0);
  EXPECT_NE(M(t.path()), base);
  ASSERT_EQ(::chmod((t / "f").c_str(), 0644), 0);
  EXPECT_EQ(M(t.path()), base);
  treetest::SetTimes(t / "f", 1600000000, 2);
  EXPECT_NE(M(t.path()), base);
  treetest::WriteFile(t / "f", "CONTENT");
  treetest::SetTimes(t / "f", 1600000000, 1);
  EXPECT_NE(M(t.path()), base);
  treetest::WriteFile(t / "f", "content");
  treetest::SetTimes(t / "f", 1600000000, 1);
  EXPECT_EQ(M(t.path()), base);
  treetest::SetXattr(t / "f", "user.x", "y");
  EXPECT_NE(M(t.path()), base);
  // Without hashing, only metadata.
  ManifestOptions nohash;
  nohash.hash_content = false;
  EXPECT_EQ(M(t.path(), nohash).find("hash="), std::string::npos);
}

TEST(TreeManifest, HashIsIndependentOfHolesAndDataMapOnlyForRealHoles) {
  TempDir t;
  ASSERT_TRUE(t.ok());
  treetest::MakeSparse(t / "sparse", 3 << 20);
  // The same bytes, all written.
  std::string full(3 << 20, '\0');
  std::fill(full.begin(), full.begin() + 4096, 'h');
  std::memcpy(&full[1 << 20], "tail!", 5);
  treetest::WriteFile(t / "written", full);
  // Preallocated (unwritten extents): zeros, fully allocated, not sparse.
  {
    UniqueFd fd(::open((t / "prealloc").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    ASSERT_EQ(::fallocate(fd.get(), 0, 0, 3 << 20), 0);
    ASSERT_EQ(::pwrite(fd.get(), full.data(), 4096, 0), 4096);
    ASSERT_EQ(::pwrite(fd.get(), "tail!", 5, 1 << 20), 5);
  }
  treetest::MakeSparse(t / "one-hole", 0);
  ASSERT_EQ(::truncate((t / "one-hole").c_str(), 1 << 20), 0);
  ASSERT_EQ(::truncate((t / "one-hole").c_str(), 0), 0);
  ASSERT_EQ(::truncate((t / "one-hole").c_str(), 5 << 20), 0);

  const std::string m = M(t.path());
  auto field = [](const std::string& line, const std::string& key) {
    size_t a = line.find(" " + key + "=");
    if (a == std::string::npos) return std::string();
    a += key.size() + 2;
    return line.substr(a, line.find(' ', a) - a);
  };
  const std::string s = Line(m, "sparse"), w = Line(m, "written"), p = Line(m, "prealloc");
  EXPECT_EQ(field(s, "hash"), field(w, "hash"));
  EXPECT_EQ(field(s, "hash"), field(p, "hash"));
  EXPECT_EQ(field(s, "data"), "0+4096,1048576+4096");
  EXPECT_EQ(field(w, "data"), "");
  EXPECT_EQ(field(p, "data"), "");
  EXPECT_EQ(field(Line(m, "one-hole"), "data"), "-");
  // A different byte anywhere changes the hash.
  full[2 << 20] = 1;
  treetest::WriteFile(t / "written", full);
  EXPECT_NE(field(Line(M(t.path()), "written"), "hash"), field(s, "hash"));
}

TEST(TreeManifest, ExcludedContentsAndMountsAreNotListed) {
  TempDir t;
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(::mkdir((t / "cache").c_str(), 0700), 0);
  treetest::WriteFile(t / "cache/junk", "x");
  treetest::WriteFile(t / "swapfile", "x");
  ASSERT_EQ(::mkdir((t / "mnt").c_str(), 0755), 0);
  ManifestOptions o;
  o.exclude_contents = {"cache/", "swapfile"};
  std::string m = M(t.path(), o);
  EXPECT_NE(Line(m, "cache"), "");
  EXPECT_EQ(Line(m, "cache/junk"), "");
  EXPECT_EQ(Line(m, "swapfile"), "");
  EXPECT_NE(Line(M(t.path()), "cache/junk"), "");

  if (!treetest::IsRoot()) GTEST_SKIP() << "mount part needs root";
  treetest::ScopedMount tmpfs("tmpfs", t / "mnt", "tmpfs", 0);
  ASSERT_TRUE(tmpfs.ok()) << tmpfs.error();
  treetest::WriteFile(t / "mnt/inside", "x");
  m = M(t.path());
  EXPECT_NE(Line(m, "mnt"), "");
  EXPECT_EQ(Line(m, "mnt/inside"), "");
  ManifestOptions cross;
  cross.one_file_system = false;
  EXPECT_NE(Line(M(t.path(), cross), "mnt/inside"), "");
}

TEST(TreeManifest, SocketsAreNotListedAndMissingRootIsInvalid) {
  TempDir t;
  ASSERT_TRUE(t.ok());
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::string sp = t / "sock";
  ASSERT_LT(sp.size(), sizeof addr.sun_path);
  std::memcpy(addr.sun_path, sp.c_str(), sp.size() + 1);
  ASSERT_EQ(::bind(s, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr), 0);
  ::close(s);
  EXPECT_EQ(Line(M(t.path()), "sock"), "");
  auto r = TreeManifest(t / "missing", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
}

}  // namespace
}  // namespace ka::format
