// Round trips WriteTree -> pipe -> ExtractTree of trees holding every kind of entry,
// compared by manifest and by direct checks of what matters most (owners, special
// bits, capabilities, ACLs, holes, times); and archives that must be refused.
#include "node/tree_extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "format/tree_manifest.h"
#include "testing/tree_test_util.h"

namespace ka::node {
namespace {

using treetest::GetXattr;
using treetest::TempDir;

std::string Manifest(const std::string& root, format::ManifestOptions options = {}) {
  auto m = format::TreeManifest(root, options);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? *m : std::string();
}

struct stat Lstat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path << ": " << std::strerror(errno);
  return st;
}

TEST(TreeExtract, RoundTripKeepsEverything) {
  if (!treetest::IsRoot()) GTEST_SKIP() << "needs root (devices, owners, trusted.* and security.* xattrs)";
  TempDir src, dst;
  ASSERT_TRUE(src.ok() && dst.ok());
  ASSERT_NO_FATAL_FAILURE(treetest::BuildVariedTree(src.path()));
  auto r = treetest::RoundTrip(src.path(), dst.path());
  ASSERT_TRUE(r.written.ok()) << r.written.status().message();
  ASSERT_TRUE(r.extracted.ok()) << r.extracted.status().message();
  EXPECT_EQ(r.written->skipped_sockets, 1u);
  EXPECT_EQ(r.extracted->entries, r.written->entries);

  // Everything the manifest sees (sockets are not listed on either side).
  EXPECT_EQ(Manifest(src.path()), Manifest(dst.path()));

  // Owners and special bits.
  struct stat st = Lstat(dst / "setuid");
  EXPECT_EQ(st.st_mode & 07777, 04775u);  // 4755, then the ACL mask rwx
  EXPECT_EQ(st.st_uid, 4242u);
  EXPECT_EQ(st.st_gid, 4343u);
  EXPECT_EQ(Lstat(dst / "setgid").st_mode & 07777, 02711u);
  EXPECT_EQ(Lstat(dst / "sticky").st_mode & 07777, 01777u);
  EXPECT_EQ(Lstat(dst / "sgid-dir").st_mode & 07777, 02775u);
  EXPECT_EQ(Lstat(dst / "readonly-dir").st_mode & 07777, 0555u);
  EXPECT_EQ(Lstat(dst / "no-perms").st_mode & 07777, 0u);
  EXPECT_EQ(Lstat(dst / "dir").st_uid, 1001u);
  EXPECT_EQ(Lstat(dst / "link-rel").st_uid, 7u);  // lchown'ed symlink

  // Capabilities survive the chown to 4242 and the setuid chmod.
  EXPECT_EQ(GetXattr(dst / "setuid", "security.capability"), treetest::CapabilityValue());
  EXPECT_EQ(GetXattr(dst / "cap-only", "security.capability"), treetest::CapabilityValue());
  // ACLs (access and default, the root's default too) byte for byte.
  for (const char* f : {"setuid", "text", "dir", "."}) {
    EXPECT_EQ(GetXattr(dst / f, "system.posix_acl_access"), GetXattr(src / f, "system.posix_acl_access")) << f;
    EXPECT_EQ(GetXattr(dst / f, "system.posix_acl_default"), GetXattr(src / f, "system.posix_acl_default")) << f;
  }
  EXPECT_FALSE(GetXattr(dst / "dir", "system.posix_acl_default").empty());
  EXPECT_FALSE(GetXattr(dst / ".", "system.posix_acl_default").empty());
  // Files created below a directory with a default ACL did not inherit it.
  EXPECT_EQ(GetXattr(dst / "dir/hl-b", "system.posix_acl_access"), "");
  EXPECT_EQ(GetXattr(dst / "text", "trusted.secret"), "only root sees this");
  EXPECT_EQ(GetXattr(dst / "text", "user.binary"), std::string("a\0b\xff", 4));
  EXPECT_EQ(GetXattr(dst / "link-dir", "trusted.on-symlink"), "symlink xattr");

  // Holes stay holes; allocated zeros and preallocated space stay allocated.
  {
    UniqueFd fd(::open((dst / "sparse-5g").c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd.valid());
    EXPECT_EQ(::lseek(fd.get(), 0, SEEK_HOLE), 4096);
    EXPECT_EQ(::lseek(fd.get(), 4096, SEEK_DATA), 1 << 20);
    st = Lstat(dst / "sparse-5g");
    EXPECT_EQ(st.st_size, (5ll << 30) + 7);
    EXPECT_LT(st.st_blocks * 512, 64 * 1024);
  }
  EXPECT_GE(Lstat(dst / "allocated-zeros").st_blocks * 512, 64 * 1024);
  st = Lstat(dst / "prealloc");
  EXPECT_GE(st.st_blocks * 512, st.st_size);
  {
    UniqueFd fd(::open((dst / "prealloc").c_str(), O_RDONLY | O_CLOEXEC));
    EXPECT_EQ(::lseek(fd.get(), 0, SEEK_HOLE), 1 << 20);  // written, no unwritten extents left
  }

  // Times with nanoseconds on files, directories, symlinks and the root.
  for (const char* f : {"text", "dir", "link-rel", ".", "immutable-dir", "readonly-dir", "sparse-5g"}) {
    struct stat a = Lstat(src / f), b = Lstat(dst / f);
    EXPECT_EQ(a.st_mtim.tv_sec, b.st_mtim.tv_sec) << f;
    EXPECT_EQ(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec) << f;
  }

  // Hardlinks, devices, fifo, flags, names, long paths, no socket.
  EXPECT_EQ(Lstat(dst / "hl-a").st_ino, Lstat(dst / "dir/hl-b").st_ino);
  EXPECT_EQ(Lstat(dst / "hl-a").st_ino, Lstat(dst / "hl-c").st_ino);
  st = Lstat(dst / "dev-loop");
  EXPECT_TRUE(S_ISBLK(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(7, 200));
  EXPECT_TRUE(S_ISCHR(Lstat(dst / "dev-null").st_mode));
  EXPECT_TRUE(S_ISFIFO(Lstat(dst / "fifo").st_mode));
  EXPECT_NE(treetest::GetFlags(dst / "immutable") & FS_IMMUTABLE_FL, 0u);
  EXPECT_NE(treetest::GetFlags(dst / "immutable-dir") & FS_IMMUTABLE_FL, 0u);
  EXPECT_NE(treetest::GetFlags(dst / "append-only") & FS_APPEND_FL, 0u);
  EXPECT_NE(treetest::GetFlags(dst.path()) & FS_IMMUTABLE_FL, 0u);
  EXPECT_EQ(treetest::ReadFile(dst / "bad-\xff\xfe-utf8"), "not utf-8\n");
  EXPECT_EQ(treetest::ReadFile(dst / "new\nline"), "newline\n");
  EXPECT_EQ(treetest::ReadFile(dst / std::string(200, 'n')), "long name\n");
  EXPECT_NE(Manifest(dst.path()).find("/leaf f "), std::string::npos);
  struct stat none {};
  EXPECT_NE(::lstat((dst / "sock").c_str(), &none), 0);
}

// The real case: a golden ext4 filesystem onto a freshly made ext4 (with its own
// lost+found and smaller directories).
TEST(TreeExtract, OntoFreshExt4) {
  if (!treetest::IsRoot()) GTEST_SKIP() << "needs root (loop mounts)";
  TempDir work;
  ASSERT_TRUE(work.ok());
  {
    treetest::Ext4Image golden(work / "golden.img", work / "golden", 256 << 20);
    ASSERT_TRUE(golden.ok()) << golden.error();
    treetest::Ext4Image clone(work / "clone.img", work / "clone", 256 << 20);
    ASSERT_TRUE(clone.ok()) << clone.error();
    // A directory that once held many entries is larger on the golden.
    ASSERT_EQ(::mkdir((work / "golden/big-dir").c_str(), 0755), 0);
    for (int i = 0; i < 400; ++i) treetest::WriteFile(work / ("golden/big-dir/f" + std::to_string(i)), "x");
    for (int i = 1; i < 400; ++i) ::unlink((work / ("golden/big-dir/f" + std::to_string(i))).c_str());
    ASSERT_NO_FATAL_FAILURE(treetest::BuildVariedTree(work / "golden"));
    ASSERT_GT(Lstat(work / "golden/big-dir").st_size, 4096);

    auto r = treetest::RoundTrip(work / "golden", work / "clone");
    ASSERT_TRUE(r.written.ok()) << r.written.status().message();
    ASSERT_TRUE(r.extracted.ok()) << r.extracted.status().message();
    std::string m = Manifest(work / "golden");
    EXPECT_NE(m.find("\nlost+found d mode=0700 "), std::string::npos);
    EXPECT_EQ(m, Manifest(work / "clone"));
    EXPECT_LT(Lstat(work / "clone/big-dir").st_size, Lstat(work / "golden/big-dir").st_size);  // ignored
  }
  // Both images are unmounted and detached here.
  auto loops = os::RunTool({"/usr/sbin/losetup", "-j", work / "golden.img"});
  ASSERT_TRUE(loops.ok());
  EXPECT_EQ(loops->out, "");
}

// A few hundred MiB of real data and a 5 GiB sparse file; prints the throughput.
TEST(TreeExtract, LargeFiles) {
  TempDir src, dst;
  ASSERT_TRUE(src.ok() && dst.ok());
  {
    // 320 MiB: text-like lines (compressible) and pseudo-random blocks (not).
    UniqueFd fd(::open((src / "big").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd.valid());
    std::string buf(1 << 20, '\0');
    uint64_t x = 88172645463325252ull;
    for (int mib = 0; mib < 320; ++mib) {
      if (mib % 2 == 0) {
        for (size_t i = 0; i + 8 <= buf.size(); i += 8) {
          x ^= x << 13, x ^= x >> 7, x ^= x << 17;
          std::memcpy(&buf[i], &x, 8);
        }
      } else {
        for (size_t i = 0; i < buf.size(); ++i) buf[i] = "config line = value 0123456789\n"[(i + mib) % 31];
      }
      ASSERT_EQ(::write(fd.get(), buf.data(), buf.size()), static_cast<ssize_t>(buf.size()));
    }
  }
  treetest::MakeSparse(src / "sparse-6g", (6ll << 30) + 1);
  auto start = std::chrono::steady_clock::now();
  auto r = treetest::RoundTrip(src.path(), dst.path());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(r.written.ok()) << r.written.status().message();
  ASSERT_TRUE(r.extracted.ok()) << r.extracted.status().message();
  EXPECT_EQ(r.written->data_bytes, (320ull << 20) + 4096 + 4096);  // the tail's whole block
  EXPECT_EQ(r.written->file_bytes, (320ull << 20) + (6ull << 30) + 1);
  EXPECT_LT(r.written->archive_bytes, r.written->data_bytes * 3 / 4);
  std::printf("[ info     ] 320 MiB + 6 GiB sparse: archive %.1f MiB (ratio %.2f), round trip %.2f s = %.0f MiB/s\n",
              static_cast<double>(r.written->archive_bytes) / (1 << 20),
              static_cast<double>(r.written->data_bytes) / static_cast<double>(r.written->archive_bytes), secs,
              320.0 / secs);
  EXPECT_EQ(Manifest(src.path()), Manifest(dst.path()));
  EXPECT_LT(Lstat(dst / "sparse-6g").st_blocks * 512, 1 << 20);
}

TEST(TreeExtract, TruncatedArchiveIsAnErrorNamingTheEntry) {
  TempDir src;
  ASSERT_TRUE(src.ok());
  for (int i = 0; i < 20; ++i) {
    std::string data;
    for (int k = 0; k < 3000; ++k)
      data += "file " + std::to_string(i) + " line " + std::to_string(k * 7919 % 1000) + "\n";
    treetest::WriteFile(src / ("file" + std::to_string(i)), data);
  }
  std::string archive = treetest::ArchiveToString(src.path());
  ASSERT_GT(archive.size(), 1000u);
  for (size_t cut :
       {size_t{0}, size_t{5}, archive.size() / 4, archive.size() / 2, archive.size() - 100, archive.size() - 1}) {
    TempDir dst;
    ASSERT_TRUE(dst.ok());
    auto r = treetest::ExtractString(archive.substr(0, cut), dst.path());
    ASSERT_FALSE(r.ok()) << "cut at " << cut << " of " << archive.size();
    if (cut > archive.size() / 8) {
      EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << r.status().ToString();
      EXPECT_NE(r.status().message().find("entry 'file"), std::string::npos) << r.status().message();
    }
  }
  TempDir whole;
  ASSERT_TRUE(whole.ok());
  EXPECT_TRUE(treetest::ExtractString(archive, whole.path()).ok());
}

TEST(TreeExtract, CorruptArchiveIsAnError) {
  TempDir src;
  ASSERT_TRUE(src.ok());
  std::string data;
  for (int k = 0; k < 100000; ++k) data += std::to_string(k) + "\n";
  treetest::WriteFile(src / "numbers", data);
  std::string archive = treetest::ArchiveToString(src.path());
  // Every flipped byte is caught (zstd's content checksum covers file data that
  // would otherwise decode to something plausible).
  for (size_t pos = 100; pos + 100 < archive.size(); pos += archive.size() / 25) {
    std::string bad = archive;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x21);
    TempDir dst;
    ASSERT_TRUE(dst.ok());
    auto r = treetest::ExtractString(bad, dst.path());
    EXPECT_FALSE(r.ok()) << "flipped byte " << pos << " of " << archive.size() << " went unnoticed";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << r.status().ToString();
    }
  }
  TempDir dst;
  ASSERT_TRUE(dst.ok());
  auto r = treetest::ExtractString("this is not an archive at all, not even close to one", dst.path());
  EXPECT_FALSE(r.ok());
}

// A hand-made archive (pax + zstd through libarchive) with the given entries.
struct Entry {
  std::string path;
  mode_t type = AE_IFREG;
  std::string data;
  std::string link;  // symlink target or hardlink target
  bool hardlink = false;
  int64_t uid = -1, gid = -1;  // -1: ours (so that tests without root can extract)
  std::string uname, gname;
};

std::string MakeArchive(const std::vector<Entry>& entries) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax(a);
  archive_write_add_filter_zstd(a);
  // Without this, libarchive pads the output to 10240-byte blocks after the zstd
  // frame, and its own zstd reader then fails ("Unknown frame descriptor").
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open2(
      a, &out, nullptr,
      [](struct archive*, void* c, const void* d, size_t n) -> la_ssize_t {
        static_cast<std::string*>(c)->append(static_cast<const char*>(d), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr, nullptr);
  for (const auto& e : entries) {
    struct archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.path.c_str());
    archive_entry_set_filetype(ae, e.type);
    archive_entry_set_perm(ae, e.type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_uid(ae, e.uid >= 0 ? e.uid : ::geteuid());
    archive_entry_set_gid(ae, e.gid >= 0 ? e.gid : ::getegid());
    if (!e.uname.empty()) archive_entry_set_uname(ae, e.uname.c_str());
    if (!e.gname.empty()) archive_entry_set_gname(ae, e.gname.c_str());
    if (e.hardlink) archive_entry_set_hardlink(ae, e.link.c_str());
    if (e.type == AE_IFLNK) archive_entry_set_symlink(ae, e.link.c_str());
    archive_entry_set_size(ae, static_cast<la_int64_t>(e.data.size()));
    EXPECT_EQ(archive_write_header(a, ae), ARCHIVE_OK) << archive_error_string(a);
    if (!e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

TEST(TreeExtract, RefusesEntriesLeavingTheRoot) {
  TempDir outer;
  ASSERT_TRUE(outer.ok());
  ASSERT_EQ(::mkdir((outer / "root").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((outer / "elsewhere").c_str(), 0755), 0);
  const std::string root = outer / "root";
  struct Case {
    const char* what;
    std::vector<Entry> entries;
  };
  std::vector<Case> cases = {
      {"dot-dot", {{"ok", AE_IFREG, "fine"}, {"../x", AE_IFREG, "escaped"}}},
      {"dot-dot inside", {{"a/../../x", AE_IFREG, "escaped"}}},
      {"absolute", {{(outer / "x").c_str(), AE_IFREG, "escaped"}}},
      {"through a symlink", {{"sym", AE_IFLNK, "", "../elsewhere"}, {"sym/x", AE_IFREG, "escaped"}}},
      {"through an absolute symlink", {{"abs", AE_IFLNK, "", outer / "elsewhere"}, {"abs/x", AE_IFREG, "escaped"}}},
      {"hardlink to outside", {{"hl", AE_IFREG, "", "../elsewhere/target", true}}},
      {"hardlink through a symlink",
       {{"sym", AE_IFLNK, "", "../elsewhere"}, {"hl", AE_IFREG, "", "sym/target", true}, {"hl", AE_IFREG, "new"}}},
  };
  treetest::WriteFile(outer / "elsewhere/target", "outside\n");
  for (const auto& c : cases) {
    auto r = treetest::ExtractString(MakeArchive(c.entries), root);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), Status::Code::kRefused) << c.what << ": " << r.status().ToString();
    EXPECT_EQ(r.status().message().rfind("refusing archive entry '", 0), 0u) << r.status().message();
    struct stat st {};
    EXPECT_NE(::lstat((outer / "x").c_str(), &st), 0) << c.what;
    EXPECT_NE(::lstat((outer / "elsewhere/x").c_str(), &st), 0) << c.what;
    EXPECT_EQ(treetest::ReadFile(outer / "elsewhere/target"), "outside\n") << c.what;
    ASSERT_EQ(::lstat((outer / "elsewhere/target").c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 1u) << c.what;
  }
  // Symlinks themselves may point anywhere: they are data, not followed.
  TempDir ok;
  ASSERT_TRUE(ok.ok());
  auto r = treetest::ExtractString(
      MakeArchive({{"etc-link", AE_IFLNK, "", "/etc/shadow"}, {"up", AE_IFLNK, "", "../.."}}), ok.path());
  ASSERT_TRUE(r.ok()) << r.status().message();
  char target[64] = {};
  ASSERT_GT(::readlink((ok / "etc-link").c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "/etc/shadow");
}

TEST(TreeExtract, OwnersStayNumeric) {
  if (!treetest::IsRoot()) GTEST_SKIP() << "needs root (chown)";
  TempDir dst;
  ASSERT_TRUE(dst.ok());
  // Names that exist here ("root", "daemon") must not override the archive's numbers.
  auto r = treetest::ExtractString(MakeArchive({{"by-number", AE_IFREG, "x", "", false, 4242, 4343, "root", "root"},
                                                {"daemon-name", AE_IFREG, "y", "", false, 0, 0, "daemon", "daemon"},
                                                {"unknown", AE_IFREG, "z", "", false, 31337, 31338, "nosuchuser", ""}}),
                                   dst.path());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(Lstat(dst / "by-number").st_uid, 4242u);
  EXPECT_EQ(Lstat(dst / "by-number").st_gid, 4343u);
  EXPECT_EQ(Lstat(dst / "daemon-name").st_uid, 0u);
  EXPECT_EQ(Lstat(dst / "unknown").st_uid, 31337u);
  EXPECT_EQ(Lstat(dst / "unknown").st_gid, 31338u);
}

// The seed made its archives with GNU tar; those (UTF-8 names in pax headers,
// SCHILY.xattr, GNU sparse) must extract as well.
TEST(TreeExtract, ExtractsGnuTarArchives) {
  if (!treetest::IsRoot()) GTEST_SKIP() << "needs root (owners)";
  if (::access("/usr/bin/tar", X_OK) != 0 || ::access("/usr/bin/zstd", X_OK) != 0) GTEST_SKIP() << "no GNU tar/zstd";
  TempDir src, dst, work;
  ASSERT_TRUE(src.ok() && dst.ok() && work.ok());
  treetest::WriteFile(src / treetest::UnicodeName(), "utf-8 name\n");
  treetest::WriteFile(src / "plain", "plain\n");
  ASSERT_EQ(::chown((src / "plain").c_str(), 4242, 4343), 0);
  treetest::SetXattr(src / "plain", "user.k", "v");
  treetest::MakeSparse(src / "sparse", 8 << 20);
  ASSERT_EQ(::symlink("plain", (src / "sym").c_str()), 0);
  ASSERT_EQ(::link((src / "plain").c_str(), (src / "hard").c_str()), 0);
  treetest::Run({"/usr/bin/tar", "--create", "--one-file-system", "--sparse", "--numeric-owner", "--xattrs",
                 "--xattrs-include=*", "--acls", "--zstd", "--format=pax", "-f", work / "seed.tar.zst", "-C",
                 src.path(), "."});
  UniqueFd fd(::open((work / "seed.tar.zst").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  auto r = ExtractTree(fd.get(), dst.path());
  ASSERT_TRUE(r.ok()) << r.status().message();
  format::ManifestOptions mo;
  EXPECT_EQ(Manifest(src.path(), mo), Manifest(dst.path(), mo));
  EXPECT_EQ(treetest::ReadFile(dst / treetest::UnicodeName()), "utf-8 name\n");
}

TEST(TreeExtract, RootMustBeADirectory) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  auto r = treetest::ExtractString(MakeArchive({{"a", AE_IFREG, "x"}}), dir / "missing");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  EXPECT_NE(r.status().message().find("missing"), std::string::npos);
}

}  // namespace
}  // namespace ka::node
