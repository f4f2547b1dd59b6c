// WriteTree: what goes into the archive (and what does not), its format, its
// statistics, and how errors of the tree or of the sink stop it.
#include "golden/tree_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <thread>

#include "format/tree_manifest.h"
#include "testing/tree_test_util.h"

namespace ka::golden {
namespace {

using treetest::TempDir;

struct Listed {
  mode_t type = 0;
  int64_t size = 0;
  std::string link;
};

// Path -> entry of an archive, read back with libarchive; also checks the format.
std::map<std::string, Listed> List(const std::string& archive) {
  std::map<std::string, Listed> out;
  struct archive* a = archive_read_new();
  archive_read_support_filter_zstd(a);
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_memory(a, archive.data(), archive.size()), ARCHIVE_OK);
  struct archive_entry* e = nullptr;
  int r;
  while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
    EXPECT_EQ(archive_filter_code(a, 0), ARCHIVE_FILTER_ZSTD);
    EXPECT_EQ(archive_format(a), ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE);
    Listed l;
    l.type = archive_entry_filetype(e);
    l.size = archive_entry_size(e);
    if (archive_entry_hardlink(e) != nullptr) l.link = archive_entry_hardlink(e);
    const char* uname = archive_entry_uname(e);
    EXPECT_STREQ(uname != nullptr ? uname : "", "") << "user names would invite remapping";
    out[archive_entry_pathname(e)] = l;
  }
  EXPECT_EQ(r, ARCHIVE_EOF) << archive_error_string(a);
  archive_read_free(a);
  return out;
}

TEST(TreeWriter, PlainRelativePathsAndStandardFormat) {
  TempDir src;
  ASSERT_TRUE(src.ok());
  ASSERT_EQ(::mkdir((src / "etc").c_str(), 0755), 0);
  treetest::WriteFile(src / "etc/hostname", "golden\n");
  ASSERT_EQ(::link((src / "etc/hostname").c_str(), (src / "etc/hostname2").c_str()), 0);
  // Through a symlink to the root: the symlink given as root is followed.
  ASSERT_EQ(::symlink(src.path().c_str(), (src.path() + ".link").c_str()), 0);
  std::string archive = treetest::ArchiveToString(src.path() + ".link");
  ::unlink((src.path() + ".link").c_str());
  ASSERT_GE(archive.size(), 4u);
  EXPECT_EQ(archive.substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4));  // zstd frame magic
  auto l = List(archive);
  ASSERT_EQ(l.size(), 4u);
  EXPECT_EQ(l["./"].type, AE_IFDIR);  // tar writes directories with a trailing '/'
  EXPECT_EQ(l["etc/"].type, AE_IFDIR);
  // One name carries the data, the other is a hardlink to it.
  EXPECT_EQ(l["etc/hostname"].size + l["etc/hostname2"].size, 7);
  EXPECT_EQ(l["etc/hostname"].link + l["etc/hostname2"].link == "etc/hostname" ||
                l["etc/hostname"].link + l["etc/hostname2"].link == "etc/hostname2",
            true);

  // GNU tar reads it too (it only warns about libarchive's own pax keywords).
  if (::access("/usr/bin/tar", X_OK) == 0 && ::access("/usr/bin/zstd", X_OK) == 0) {
    treetest::WriteFile(src / "archive.tar.zst", archive);
    auto r = os::RunTool({"/usr/bin/tar", "--zstd", "-tf", src / "archive.tar.zst"});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->exit_code, 0) << r->err;
    EXPECT_NE(r->out.find("etc/hostname"), std::string::npos) << r->out;
  }
}

// Two copies of one tree (other inodes, other access and change times): the same
// bytes with `reproducible`, different ones without.
TEST(TreeWriter, ReproducibleArchivesOfEqualTrees) {
  TempDir a, b;
  ASSERT_TRUE(a.ok() && b.ok());
  // Reading a file may set its atime to now (relatime, atime older than a day): both trees read
  // within one clock tick would then have equal atimes; so the times are set before each archive.
  auto stamp = [&] {
    for (TempDir* d : {&a, &b}) {
      for (const char* p : {"usr/tool", "usr", "."}) {
        struct timespec ts[2] = {{1700000000 + (d == &b ? 77 : 0), 0}, {1600000000, 0}};  // atime differs
        ASSERT_EQ(::utimensat(AT_FDCWD, (*d / p).c_str(), ts, AT_SYMLINK_NOFOLLOW), 0);
      }
      struct timespec ts[2] = {{1600000000, 0}, {1600000000, 0}};
      ASSERT_EQ(::utimensat(AT_FDCWD, (*d / "usr/tool2").c_str(), ts, AT_SYMLINK_NOFOLLOW), 0);
    }
  };
  for (TempDir* d : {&a, &b}) {
    ASSERT_EQ(::mkdir((*d / "usr").c_str(), 0755), 0);
    treetest::WriteFile(*d / "usr/tool", "#!/bin/sh\necho hi\n");
    ASSERT_EQ(::symlink("tool", (*d / "usr/tool2").c_str()), 0);
  }
  TreeWriteOptions rep;
  rep.reproducible = true;
  stamp();
  std::string ra = treetest::ArchiveToString(a.path(), rep);
  stamp();
  EXPECT_EQ(ra, treetest::ArchiveToString(b.path(), rep));
  stamp();
  std::string na = treetest::ArchiveToString(a.path());
  stamp();
  EXPECT_NE(na, treetest::ArchiveToString(b.path()));
}

TEST(TreeWriter, ExcludedDirectoriesAreKeptEmpty) {
  if (!treetest::IsRoot()) GTEST_SKIP() << "needs root (chown)";
  TempDir src, dst;
  ASSERT_TRUE(src.ok() && dst.ok());
  ASSERT_EQ(::mkdir((src / "tmp").c_str(), 01777), 0);
  ASSERT_EQ(::chmod((src / "tmp").c_str(), 01777), 0);
  treetest::WriteFile(src / "tmp/scratch", "scratch\n");
  ASSERT_EQ(::mkdir((src / "var").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((src / "var/cache").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((src / "var/cache/apt").c_str(), 0750), 0);
  ASSERT_EQ(::chown((src / "var/cache/apt").c_str(), 100, 101), 0);
  ASSERT_EQ(::mkdir((src / "var/cache/apt/archives").c_str(), 0755), 0);
  treetest::WriteFile(src / "var/cache/apt/archives/big.deb", std::string(100000, 'd'));
  treetest::WriteFile(src / "var/cache/kept", "kept\n");
  treetest::WriteFile(src / "swapfile", "not wanted\n");
  treetest::SetTimes(src / "var/cache/apt", 1234567890, 987654321);

  TreeWriteOptions options;
  options.exclude = {"tmp", "./var/cache/apt/", "/swapfile", "does/not/exist"};
  auto r = treetest::RoundTrip(src.path(), dst.path(), options);
  ASSERT_TRUE(r.written.ok()) << r.written.status().message();
  ASSERT_TRUE(r.extracted.ok()) << r.extracted.status().message();
  EXPECT_LT(r.written->data_bytes, 100u);

  struct stat st {};
  ASSERT_EQ(::lstat((dst / "var/cache/apt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_uid, 100u);
  EXPECT_EQ(st.st_gid, 101u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1234567890);
  EXPECT_EQ(st.st_mtim.tv_nsec, 987654321);
  ASSERT_EQ(::lstat((dst / "tmp").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
  EXPECT_NE(::lstat((dst / "tmp/scratch").c_str(), &st), 0);
  EXPECT_NE(::lstat((dst / "var/cache/apt/archives").c_str(), &st), 0);
  EXPECT_NE(::lstat((dst / "swapfile").c_str(), &st), 0);  // a non-directory named is left out
  EXPECT_EQ(treetest::ReadFile(dst / "var/cache/kept"), "kept\n");

  format::ManifestOptions mo;
  mo.exclude_contents = options.exclude;
  auto a = format::TreeManifest(src.path(), mo), b = format::TreeManifest(dst.path(), {});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);

  auto bad = WriteTree(src.path(), {.exclude = {"./"}}, [](const void*, size_t) { return Status::Ok(); });
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalid);
}

TEST(TreeWriter, StaysOnOneFilesystem) {
  if (!treetest::IsRoot()) GTEST_SKIP() << "needs root (mount)";
  TempDir src, dst, dst_all, other;
  ASSERT_TRUE(src.ok() && dst.ok() && dst_all.ok() && other.ok());
  ASSERT_EQ(::mkdir((src / "proc-like").c_str(), 0555), 0);
  ASSERT_EQ(::mkdir((src / "bound").c_str(), 0755), 0);
  treetest::WriteFile(src / "top", "top\n");
  treetest::WriteFile(other / "from-elsewhere", "same filesystem, other directory\n");
  {
    treetest::ScopedMount tmpfs("tmpfs", src / "proc-like", "tmpfs", 0);
    ASSERT_TRUE(tmpfs.ok()) << tmpfs.error();
    treetest::WriteFile(src / "proc-like/inside-tmpfs", "other filesystem\n");
    // A bind mount of the same filesystem: same st_dev, other mount.
    treetest::ScopedMount bind(other.path(), src / "bound", nullptr, MS_BIND);
    ASSERT_TRUE(bind.ok()) << bind.error();

    auto r = treetest::RoundTrip(src.path(), dst.path());
    ASSERT_TRUE(r.written.ok()) << r.written.status().message();
    ASSERT_TRUE(r.extracted.ok()) << r.extracted.status().message();
    auto m1 = format::TreeManifest(src.path(), {}), m2 = format::TreeManifest(dst.path(), {});
    ASSERT_TRUE(m1.ok() && m2.ok());
    EXPECT_EQ(*m1, *m2);
    EXPECT_EQ(m1->find("inside-tmpfs"), std::string::npos);
    EXPECT_EQ(m1->find("from-elsewhere"), std::string::npos);

    TreeWriteOptions all;
    all.one_file_system = false;
    r = treetest::RoundTrip(src.path(), dst_all.path(), all);
    ASSERT_TRUE(r.written.ok()) << r.written.status().message();
    ASSERT_TRUE(r.extracted.ok()) << r.extracted.status().message();
  }
  struct stat st {};
  EXPECT_TRUE(::lstat((dst / "proc-like").c_str(), &st) == 0 && S_ISDIR(st.st_mode));
  EXPECT_NE(::lstat((dst / "proc-like/inside-tmpfs").c_str(), &st), 0);
  EXPECT_NE(::lstat((dst / "bound/from-elsewhere").c_str(), &st), 0);
  EXPECT_EQ(treetest::ReadFile(dst / "top"), "top\n");
  EXPECT_EQ(treetest::ReadFile(dst_all / "proc-like/inside-tmpfs"), "other filesystem\n");
  EXPECT_EQ(treetest::ReadFile(dst_all / "bound/from-elsewhere"), "same filesystem, other directory\n");
}

TEST(TreeWriter, SinkErrorStopsAtOnce) {
  TempDir src;
  ASSERT_TRUE(src.ok());
  for (int i = 0; i < 50; ++i) {
    std::string data(200000, '\0');
    for (size_t k = 0; k < data.size(); ++k) data[k] = static_cast<char>((k * 2654435761u + i) >> 13);
    treetest::WriteFile(src / ("f" + std::to_string(i)), data);
  }
  for (int fail_at : {1, 3}) {
    int calls = 0;
    auto r = WriteTree(src.path(), {}, [&](const void*, size_t) {
      ++calls;
      return calls == fail_at ? Status::Closed("next node went away") : Status::Ok();
    });
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::Code::kClosed);
    EXPECT_EQ(r.status().message(), "next node went away");
    EXPECT_EQ(calls, fail_at) << "the sink was called again after failing";
  }
}

// Drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from this thread only (raw capset
// is per thread), so that root cannot read a mode-000 file.
bool DropDacCapsInThisThread() {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2] = {};
  if (::syscall(SYS_capget, &h, d) != 0) return false;
  for (int cap : {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH}) d[cap / 32].effective &= ~(1u << (cap % 32));
  return ::syscall(SYS_capset, &h, d) == 0;
}

TEST(TreeWriter, UnreadableFileIsAnErrorNamingIt) {
  TempDir src;
  ASSERT_TRUE(src.ok());
  ASSERT_EQ(::chmod(src.path().c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((src / "etc").c_str(), 0755), 0);
  treetest::WriteFile(src / "etc/readable", "fine\n");
  treetest::WriteFile(src / "etc/shadow-like", "secret\n", 0);
  if (treetest::IsRoot()) {
    ASSERT_EQ(::chown((src / "etc/shadow-like").c_str(), 4242, 4242), 0);
  }
  std::optional<Result<TreeWriteStats>> r;
  bool dropped = true;
  std::thread t([&] {
    if (treetest::IsRoot()) dropped = DropDacCapsInThisThread();
    r.emplace(WriteTree(src.path(), {}, [](const void*, size_t) { return Status::Ok(); }));
  });
  t.join();
  ASSERT_TRUE(dropped);
  ASSERT_FALSE(r->ok()) << "a file that cannot be read was skipped silently";
  EXPECT_NE(r->status().message().find("etc/shadow-like"), std::string::npos) << r->status().message();
}

TEST(TreeWriter, MissingRootIsInvalid) {
  auto r = WriteTree("/nonexistent/ka/tree", {}, [](const void*, size_t) { return Status::Ok(); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  EXPECT_NE(r.status().message().find("/nonexistent/ka/tree"), std::string::npos);
  TempDir src;
  ASSERT_TRUE(src.ok());
  treetest::WriteFile(src / "file", "x");
  r = WriteTree(src / "file", {}, [](const void*, size_t) { return Status::Ok(); });
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
}

TEST(TreeWriter, PathsBeyondPathMaxAreRefused) {
  TempDir src;
  ASSERT_TRUE(src.ok());
  ASSERT_NO_FATAL_FAILURE(treetest::MakeDeepPath(src / "deep", 18));  // about 4350 bytes
  auto r = WriteTree(src.path(), {}, [](const void*, size_t) { return Status::Ok(); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  EXPECT_NE(r.status().message().find("path deep/aaaa"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("exclude a directory above it"), std::string::npos);
  TreeWriteOptions options;
  options.exclude = {"deep/" + std::string(240, 'a')};
  EXPECT_TRUE(WriteTree(src.path(), options, [](const void*, size_t) { return Status::Ok(); }).ok());
}

TEST(TreeWriter, StatsArePlausible) {
  TempDir src;
  ASSERT_TRUE(src.ok());
  std::string text;
  while (text.size() < (8u << 20)) text += "key" + std::to_string(text.size() % 977) + " = some value here\n";
  treetest::WriteFile(src / "text", text);
  treetest::WriteFile(src / "empty", "");
  treetest::MakeSparse(src / "sparse", 1ll << 30);
  ASSERT_EQ(::link((src / "text").c_str(), (src / "text-again").c_str()), 0);
  ASSERT_EQ(::symlink("text", (src / "sym").c_str()), 0);
  uint64_t seen = 0;
  TreeWriteOptions options;
  options.zstd_threads = 2;
  options.zstd_level = 5;
  auto r = WriteTree(src.path(), options, [&](const void*, size_t n) {
    seen += n;
    return Status::Ok();
  });
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->entries, 6u);                             // . text empty sparse text-again sym
  EXPECT_EQ(r->file_bytes, text.size() + (1ull << 30));  // the hardlink counted once
  EXPECT_EQ(r->data_bytes, text.size() + 4096 + 4096);   // whole blocks, the holes not read
  EXPECT_EQ(r->archive_bytes, seen);
  EXPECT_LT(r->archive_bytes, r->data_bytes / 10);
  EXPECT_EQ(r->skipped_sockets, 0u);

  options.zstd_level = 99;
  EXPECT_EQ(WriteTree(src.path(), options, [](const void*, size_t) { return Status::Ok(); }).status().code(),
            Status::Code::kInvalid);
}

// A running system changes while it is copied: live trees list what changed and
// carry on; the same tree read as an image is not checked.
TEST(TreeWriter, ALiveTreeListsWhatChangedWhileItWasRead) {
  TempDir src;
  ASSERT_TRUE(src.ok());
  treetest::WriteFiles(src.path(), {{"grows.log", "one line\n"},
                                    {"touched", "same size\n"},
                                    {"removed", "gone soon\n"},
                                    {"empty-then-not", ""},
                                    {"steady", "never changes\n"}});
  ASSERT_EQ(::link((src / "steady").c_str(), (src / "steady-too").c_str()), 0);  // a hardlink: no data of its own
  TreeWriteOptions o;
  o.live = true;
  o.after_read = [&](const std::string& rel) {
    if (rel == "grows.log") treetest::WriteFile(src / "grows.log", "one line\ntwo lines\n");
    if (rel == "touched") {
      struct timespec ts[2] = {{1, 0}, {1, 0}};
      ::utimensat(AT_FDCWD, (src / "touched").c_str(), ts, 0);
    }
    if (rel == "removed") ::unlink((src / "removed").c_str());
    if (rel == "empty-then-not") treetest::WriteFile(src / "empty-then-not", "now it has data\n");
  };
  std::string out;
  auto r = WriteTree(src.path(), o, [&](const void* d, size_t n) {
    out.append(static_cast<const char*>(d), n);
    return Status::Ok();
  });
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::map<std::string, std::string> changed;
  for (const auto& c : r->changed) changed[c.path] = c.what;
  EXPECT_EQ(r->changed_count, 4u);
  EXPECT_EQ(changed["grows.log"], "size 9 -> 19 while it was read");
  EXPECT_EQ(changed["touched"], "modified while it was read");
  EXPECT_EQ(changed["removed"], "vanished while it was read");
  EXPECT_EQ(changed["empty-then-not"], "size 0 -> 16 while it was read");
  EXPECT_EQ(changed.count("steady"), 0u);
  EXPECT_EQ(changed.count("steady-too"), 0u);
  EXPECT_EQ(List(out).count("grows.log"), 1u);  // still archived, as it was when its header was written

  // Not live (an image): nothing is checked, nothing listed.
  treetest::WriteFile(src / "removed", "back\n");
  o.live = false;
  auto image = WriteTree(src.path(), o, [](const void*, size_t) { return Status::Ok(); });
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(image->changed_count, 0u);
}

}  // namespace
}  // namespace ka::golden
