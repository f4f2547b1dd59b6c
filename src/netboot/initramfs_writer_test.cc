// Unit tests for the initramfs writer (initramfs_writer.h): the archive read back
// with libarchive (names, modes, symlinks, device nodes, owners, times) and the
// same inputs giving the same bytes.
#include "netboot/initramfs_writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fstream>
#include <map>
#include <sstream>

#include "node/temp_tree_for_test.h"
#include "util/archive_ptr.h"

namespace ka::netboot {
namespace {

struct ReadEntry {
  mode_t mode = 0;
  std::string data;  // file contents or symlink target
  dev_t rdev = 0;
  int64_t mtime = 0, uid = -1, ino = 0;
};

std::map<std::string, ReadEntry> ReadBack(const std::string& file) {
  std::map<std::string, ReadEntry> out;
  ArchiveReadPtr a(archive_read_new());
  archive_read_support_format_cpio(a.get());
  archive_read_support_filter_all(a.get());
  EXPECT_EQ(archive_read_open_filename(a.get(), file.c_str(), 1 << 16), ARCHIVE_OK) << ArchiveMessage(a.get());
  struct archive_entry* e = nullptr;
  while (archive_read_next_header(a.get(), &e) == ARCHIVE_OK) {
    ReadEntry r;
    r.mode = archive_entry_mode(e);
    r.rdev = archive_entry_rdev(e);
    r.mtime = archive_entry_mtime(e);
    r.uid = archive_entry_uid(e);
    r.ino = archive_entry_ino64(e);
    if (archive_entry_symlink(e) != nullptr) r.data = archive_entry_symlink(e);
    char buf[4096];
    la_ssize_t n;
    while ((n = archive_read_data(a.get(), buf, sizeof buf)) > 0) r.data.append(buf, static_cast<size_t>(n));
    out[archive_entry_pathname(e)] = r;
  }
  return out;
}

std::string Bytes(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void Fill(InitramfsWriter& w, const node::TempTree& t) {
  t.Write("root/usr/bin/tool", "#!/bin/sh\necho hi\n", 0755);
  t.Write("root/etc/conf", "x=1\n", 0644);
  ASSERT_EQ(::symlink("usr/lib", (t / "root/lib").c_str()), 0);
  ASSERT_TRUE(w.AddTree(t / "root").ok());
  w.AddData("/init", "#!/bin/sh\n", 0755);
  w.AddCharDevice("/dev/console", 0600, 5, 1);
  w.AddCharDevice("/dev/null", 0666, 1, 3);
}

TEST(InitramfsWriter, ReadsBackWithModesLinksAndDevices) {
  node::TempTree t;
  InitramfsWriter w;
  Fill(w, t);
  InitramfsOptions o;
  o.mtime = 1700000000;
  auto stats = w.Write(t / "a.img", o);
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  auto entries = ReadBack(t / "a.img");
  ASSERT_EQ(entries.size(), stats->entries);
  ASSERT_TRUE(entries.count("usr/bin/tool"));
  EXPECT_EQ(entries["usr/bin/tool"].mode, static_cast<mode_t>(S_IFREG | 0755));
  EXPECT_EQ(entries["usr/bin/tool"].data, "#!/bin/sh\necho hi\n");
  EXPECT_EQ(entries["etc/conf"].mode, static_cast<mode_t>(S_IFREG | 0644));
  EXPECT_EQ(entries["lib"].mode & S_IFMT, static_cast<mode_t>(S_IFLNK));
  EXPECT_EQ(entries["lib"].data, "usr/lib");
  EXPECT_EQ(entries["init"].data, "#!/bin/sh\n");
  EXPECT_EQ(entries["dev/console"].mode, static_cast<mode_t>(S_IFCHR | 0600));
  EXPECT_EQ(entries["dev/console"].rdev, makedev(5, 1));
  EXPECT_EQ(entries["dev/null"].rdev, makedev(1, 3));
  EXPECT_EQ(entries["dev"].mode & S_IFMT, static_cast<mode_t>(S_IFDIR));  // parents added
  EXPECT_EQ(entries["usr/bin"].mode, static_cast<mode_t>(S_IFDIR | 0755));
  for (const auto& [path, e] : entries) {
    EXPECT_EQ(e.mtime, 1700000000) << path;
    EXPECT_EQ(e.uid, 0) << path;
  }
  // Inodes follow path order: "dev" < "dev/console" < ... < "usr/bin/tool".
  EXPECT_LT(entries["dev"].ino, entries["dev/console"].ino);
  EXPECT_LT(entries["dev/null"].ino, entries["usr/bin/tool"].ino);
}

TEST(InitramfsWriter, SameInputsSameBytes) {
  node::TempTree t;
  InitramfsWriter w1;
  Fill(w1, t);
  ASSERT_TRUE(w1.Write(t / "a.img", {}).ok());
  // Newer host times and a second writer fed in another order change nothing.
  ASSERT_EQ(::utimensat(AT_FDCWD, (t / "root/etc/conf").c_str(), nullptr, 0), 0);
  InitramfsWriter w2;
  w2.AddCharDevice("/dev/null", 0666, 1, 3);
  w2.AddCharDevice("/dev/console", 0600, 5, 1);
  w2.AddData("/init", "#!/bin/sh\n", 0755);
  ASSERT_TRUE(w2.AddTree(t / "root").ok());
  ASSERT_TRUE(w2.Write(t / "b.img", {}).ok());
  std::string a = Bytes(t / "a.img"), b = Bytes(t / "b.img");
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4));  // zstd frame magic
}

TEST(InitramfsWriter, GzipAndUncompressed) {
  node::TempTree t;
  InitramfsWriter w;
  w.AddData("/init", "#!/bin/sh\n", 0755);
  InitramfsOptions o;
  o.compression = InitramfsCompression::kNone;
  ASSERT_TRUE(w.Write(t / "n.img", o).ok());
  EXPECT_EQ(Bytes(t / "n.img").substr(0, 6), "070701");  // newc magic
  o.compression = InitramfsCompression::kGzip;
  o.level = 9;
  ASSERT_TRUE(w.Write(t / "g.img", o).ok());
  EXPECT_EQ(ReadBack(t / "g.img")["init"].data, "#!/bin/sh\n");
}

}  // namespace
}  // namespace ka::netboot
