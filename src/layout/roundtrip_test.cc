// desc -> table -> desc round trips through the real sfdisk, on sparse image files
// (no root needed): plan a desc, write it with sfdisk, read sfdisk --json back,
// describe it, plan the description again, and write that onto a larger image.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "layout/desc_parser.h"
#include "layout/desc_writer.h"
#include "layout/from_table.h"
#include "layout/plan.h"
#include "layout/sfdisk_script.h"
#include "os/env.h"
#include "os/real_env.h"
#include "os/run_tool.h"

namespace ka::layout {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

class RoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!os::FindTool("sfdisk", "fdisk").ok()) GTEST_SKIP() << "sfdisk not installed";
    char tmpl[] = "/tmp/ka-layout-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) {
      auto r = os::RunTool({"/bin/rm", "-rf", dir_});
      (void)r;
    }
  }

  std::string Image(const std::string& name, uint64_t bytes) {
    std::string path = dir_ + "/" + name;
    FILE* f = std::fopen(path.c_str(), "w");
    EXPECT_NE(f, nullptr);
    if (f) {
      EXPECT_EQ(::ftruncate(::fileno(f), static_cast<off_t>(bytes)), 0);
      std::fclose(f);
    }
    return path;
  }

  // Writes the layout's plan onto the image; returns the table sfdisk reads back.
  Table WriteAndRead(const Layout& l, const std::string& image) {
    auto info = ops_.Inspect(image);
    EXPECT_TRUE(info.ok());
    auto plan = PlanLayout(l, info->geometry);
    EXPECT_TRUE(plan.ok()) << plan.status().message();
    if (!plan.ok()) return {};
    std::string script = SfdiskScript(plan->table, info->path);
    Status s = ops_.CheckScript(info->path, script);
    EXPECT_TRUE(s.ok()) << s.message();
    EXPECT_TRUE(ops_.WipeSignatures(info->path).ok());
    s = ops_.WriteTable(info->path, script);
    EXPECT_TRUE(s.ok()) << s.message();
    auto json = ops_.ReadTableJson(info->path);
    EXPECT_TRUE(json.ok()) << json.status().message();
    auto t = ParseSfdiskJson(*json);
    EXPECT_TRUE(t.ok()) << t.status().message();
    if (!t.ok()) return {};
    // What was planned is what is on the image.
    std::vector<TableEntry> want = plan->table.entries;
    std::sort(want.begin(), want.end(), [](const TableEntry& a, const TableEntry& b) { return a.number < b.number; });
    EXPECT_EQ(t->entries.size(), want.size());
    for (size_t i = 0; i < want.size() && i < t->entries.size(); ++i) {
      EXPECT_EQ(t->entries[i].number, want[i].number);
      EXPECT_EQ(t->entries[i].start, want[i].start) << "partition " << want[i].number;
      EXPECT_EQ(t->entries[i].size, want[i].size) << "partition " << want[i].number;
      EXPECT_EQ(t->entries[i].type, want[i].type);
      EXPECT_EQ(t->entries[i].bootable, want[i].bootable);
      EXPECT_EQ(t->entries[i].name, want[i].name);
      if (!want[i].uuid.empty()) {
        EXPECT_EQ(t->entries[i].uuid, want[i].uuid);
      }
    }
    if (!l.id.empty()) {
      EXPECT_EQ(t->id, l.id);
    }
    return *t;
  }

  static void ExpectSameGeometry(const Table& a, const Table& b) {
    ASSERT_EQ(a.entries.size(), b.entries.size());
    EXPECT_EQ(a.label, b.label);
    EXPECT_EQ(a.id, b.id);
    for (size_t i = 0; i < a.entries.size(); ++i) {
      const TableEntry& x = a.entries[i];
      const TableEntry& y = b.entries[i];
      EXPECT_EQ(x.number, y.number);
      EXPECT_EQ(x.start, y.start);
      EXPECT_EQ(x.size, y.size);
      EXPECT_EQ(x.type, y.type);
      EXPECT_EQ(x.bootable, y.bootable);
      EXPECT_EQ(x.name, y.name);
      EXPECT_EQ(x.uuid, y.uuid);
    }
  }

  // desc -> table (image 1) -> desc' -> table (image 2, larger): same table, same desc'.
  void Check(const std::string& desc, uint64_t bytes) {
    SCOPED_TRACE(desc);
    auto l = ParseDesc(desc);
    ASSERT_TRUE(l.ok()) << l.status().message();
    std::string a = Image("a.img", bytes), b = Image("b.img", bytes + 512 * kMiB + 4096);
    Table t1 = WriteAndRead(*l, a);
    auto g1 = ops_.Inspect(a)->geometry;
    auto described = LayoutFromTable(t1, g1);
    ASSERT_TRUE(described.ok()) << described.status().message();
    std::string desc2 = WriteDesc(*described);
    auto reparsed = ParseDesc(desc2);
    ASSERT_TRUE(reparsed.ok()) << desc2 << reparsed.status().message();
    Table t2 = WriteAndRead(*reparsed, b);
    ExpectSameGeometry(t1, t2);
    auto g2 = ops_.Inspect(b)->geometry;
    auto described2 = LayoutFromTable(t2, g2);
    ASSERT_TRUE(described2.ok());
    EXPECT_EQ(WriteDesc(*described2), desc2);
  }

  os::RealEnv ops_;
  std::string dir_;
};

TEST_F(RoundTrip, SeedScaledToOneGiB) {
  Check("linux 300\nextended fill\nlogical swap 100\nlogical linux fill\n", 1024 * kMiB);
}

TEST_F(RoundTrip, SeedAsWritten) {
  Check("linux 3500\nextended fill\nlogical swap 500\nlogical linux fill\n", 8192 * kMiB);
}

TEST_F(RoundTrip, MbrPrimariesFlagsAndTypes) {
  Check("label mbr id=0x1234abcd\nlinux 100 boot\ntype0c 50\nswap 64\ntype83 fill\n", 512 * kMiB);
}

TEST_F(RoundTrip, MbrPrimaryAfterExtended) {
  Check("linux 100\nextended 200\nlinux 50\nlogical swap 50\nlogical linux fill\n", 512 * kMiB);
}

TEST_F(RoundTrip, OldStyleMbrAtSector63) {
  Check("linux 100000s start=63s\nextended 200000s start=100107s\nlogical linux 50000s start=100170s\n", 256 * kMiB);
}

TEST_F(RoundTrip, GptWithEsp) {
  Check(
      "label gpt id=A954DF34-F3A3-1F4B-B18A-2C1B0A395480\n"
      "efi 64MiB fs=vfat mount=/boot/efi name=\"EFI System\"\n"
      "bios 1 name=grub\n"
      "linux 25% fs=ext4 mount=/ boot partuuid=9D77528F-495B-404A-BFF9-B5D642A57D28\n"
      "linux fill name=data\n"
      "swap 32MiB\n",
      1024 * kMiB);
}

TEST_F(RoundTrip, GptGapsOddSizesAndNumbers) {
  Check("label gpt\nlinux 1001s\nlinux 10 start=100MiB number=7\nswap 3333s number=3\nlvm 20\nraid 1 start=300MiB\n",
        512 * kMiB);
}

}  // namespace
}  // namespace ka::layout
