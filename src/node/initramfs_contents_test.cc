#include "node/initramfs_contents.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include "node/temp_tree_for_test.h"

namespace ka::node {
namespace {

using Strings = std::vector<std::string>;

// A newc cpio archive of `files` (empty contents), through libarchive's `filter`
// ("" none, "zstd", "gzip", "xz", "lz4").
std::string Cpio(const Strings& files, const std::string& filter) {
  std::string buf(1 << 20, '\0');
  size_t used = 0;
  struct archive* a = archive_write_new();
  archive_write_set_format_cpio_newc(a);
  if (filter == "zstd") archive_write_add_filter_zstd(a);
  if (filter == "gzip") archive_write_add_filter_gzip(a);
  if (filter == "xz") archive_write_add_filter_xz(a);
  if (filter == "lz4") archive_write_add_filter_lz4(a);
  archive_write_set_bytes_in_last_block(a, 1);
  EXPECT_EQ(archive_write_open_memory(a, buf.data(), buf.size(), &used), ARCHIVE_OK) << archive_error_string(a);
  for (const auto& f : files) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, f.c_str());
    archive_entry_set_filetype(e, f.back() == '/' ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 0);
    EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  buf.resize(used);
  return buf;
}

const Strings kMain = {".", "usr/lib/modules/6.1.0-50-amd64/kernel/drivers/nvme/host/nvme.ko",
                       "usr/lib/modules/6.1.0-50-amd64/kernel/drivers/nvme/host/nvme-core.ko",
                       "./usr/lib/modules/6.1.0-50-amd64/kernel/drivers/ata/ahci.ko.xz", "lib/modules/x/libata.ko.zst",
                       "usr/lib/modules/6.1.0-50-amd64/modules.dep", "usr/bin/busybox", "etc/nvme.ko"};

TEST(NodeInitramfsContents, EarlyMicrocodeThenCompressedMain) {
  for (const char* filter : {"zstd", "gzip", "xz", "lz4", ""}) {
    std::string early = Cpio({"kernel/", "kernel/x86/microcode/GenuineIntel.bin"}, "");
    early += std::string(512 - early.size() % 512, '\0');  // padded as the kernel expects
    auto paths = ListInitramfsData(early + Cpio(kMain, filter));
    ASSERT_TRUE(paths.ok()) << filter << ": " << paths.status().message();
    EXPECT_EQ(paths->front(), "kernel/");
    EXPECT_EQ(paths->size(), 2 + kMain.size()) << filter;
    EXPECT_EQ(InitramfsModules(*paths), (std::set<std::string>{"ahci", "libata", "nvme", "nvme_core"})) << filter;
  }
}

TEST(NodeInitramfsContents, AloneOrGarbage) {
  auto only = ListInitramfsData(Cpio(kMain, "zstd"));
  ASSERT_TRUE(only.ok());
  EXPECT_EQ(only->size(), kMain.size());
  auto garbage = ListInitramfsData(std::string("this is not an initramfs at all, not even close"));
  EXPECT_FALSE(garbage.ok());
  auto empty = ListInitramfsData("");
  EXPECT_FALSE(empty.ok());
  std::string cut = Cpio({"a", "b"}, "");
  auto truncated = ListInitramfsData(cut.substr(0, 150));
  EXPECT_FALSE(truncated.ok());
}

TEST(NodeInitramfsContents, ReadsAFile) {
  TempTree t;
  t.Write("initrd.img", Cpio(kMain, "gzip"));
  auto paths = ListInitramfs(t / "initrd.img");
  ASSERT_TRUE(paths.ok()) << paths.status().message();
  EXPECT_EQ(paths->size(), kMain.size());
  auto missing = ListInitramfs(t / "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot read the initramfs"), std::string::npos);
}

TEST(NodeInitramfsContents, ModuleNames) {
  EXPECT_EQ(ModuleName("nvme-core"), "nvme_core");
  EXPECT_EQ(ModuleName("virtio_blk"), "virtio_blk");
}

// A real one, when this machine has one (Debian: early microcode + zstd main archive), or
// the one KA_TEST_INITRAMFS names.
TEST(NodeInitramfsContents, ThisMachinesInitramfs) {
  std::error_code ec;
  const char* env = std::getenv("KA_TEST_INITRAMFS");
  std::string found = env != nullptr ? env : "";
  if (found.empty())
    for (auto it = std::filesystem::directory_iterator("/boot", ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec))
      if (it->path().filename().string().rfind("initrd.img-", 0) == 0) found = it->path().string();
  if (found.empty() || ::access(found.c_str(), R_OK) != 0) GTEST_SKIP() << "no readable /boot/initrd.img-*";
  auto paths = ListInitramfs(found);
  ASSERT_TRUE(paths.ok()) << paths.status().message();
  EXPECT_FALSE(InitramfsModules(*paths).empty()) << found;
}

}  // namespace
}  // namespace ka::node
