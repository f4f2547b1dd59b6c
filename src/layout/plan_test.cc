#include "layout/plan.h"

#include <gtest/gtest.h>

#include "layout/desc_parser.h"

namespace ka::layout {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;

Result<Plan> PlanText(const std::string& text, uint64_t bytes, uint64_t sector = 512) {
  auto l = ParseDesc(text);
  if (!l.ok()) return l.status();
  return PlanLayout(*l, Geometry{bytes, sector});
}

Plan MustPlan(const std::string& text, uint64_t bytes, uint64_t sector = 512) {
  auto p = PlanText(text, bytes, sector);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? *p : Plan{};
}

struct E {
  int number;
  uint64_t start, size;
  const char* type;
};

void ExpectEntries(const Plan& p, const std::vector<E>& want) {
  ASSERT_EQ(p.table.entries.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const TableEntry& e = p.table.entries[i];
    EXPECT_EQ(e.number, want[i].number) << i;
    EXPECT_EQ(e.start, want[i].start) << i;
    EXPECT_EQ(e.size, want[i].size) << i;
    EXPECT_EQ(e.type, want[i].type) << i;
  }
}

// The seed layout scaled to a 1 GiB disk lands where sfdisk itself puts it
// (measured with sfdisk 2.38: ",300M,83 / ,,5 / ,100M,82 / ,,83").
TEST(Plan, SeedLayoutLikeSfdisk) {
  Plan p = MustPlan("linux 300\nextended fill\nlogical swap 100\nlogical linux fill\n", kGiB);
  ExpectEntries(
      p, {{1, 2048, 614400, "83"}, {2, 616448, 1480704, "5"}, {5, 618496, 204800, "82"}, {6, 825344, 1271808, "83"}});
}

TEST(Plan, SeedLayoutAsWritten) {
  // linux 3500 / extended fill / logical swap 500 / logical linux fill on 8 GiB.
  Plan p = MustPlan("linux 3500\nextended fill\nlogical swap 500\nlogical linux fill\n", 8 * kGiB);
  const auto& e = p.table.entries;
  EXPECT_EQ(e[0].size, 3500 * 2048u);
  EXPECT_EQ(e[1].start, 2048 + 3500 * 2048u);
  EXPECT_EQ(e[1].start + e[1].size, 8 * kGiB / 512);  // fills to the end
  EXPECT_EQ(e[2].start, e[1].start + 2048);
  EXPECT_EQ(e[3].start, e[2].start + e[2].size + 2048);
  EXPECT_EQ(e[3].start + e[3].size, 8 * kGiB / 512);
}

// GPT: first usable 2048, last usable = total - 34; a final fill ends on a MiB
// boundary (sfdisk: ",512M,U / ,,L" gives 2048+1048576 and 1050624+1044480).
TEST(Plan, GptFillLikeSfdisk) {
  Plan p = MustPlan("label gpt\nefi 512MiB fs=vfat\nlinux fill\n", kGiB);
  ExpectEntries(p, {{1, 2048, 1048576, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"},
                    {2, 1050624, 1044480, "0FC63DAF-8483-4772-8E79-3D69D8477DE4"}});
  EXPECT_EQ(p.range.last, kGiB / 512 - 34);
}

TEST(Plan, FillInTheMiddle) {
  Plan p = MustPlan("label gpt\nefi 100\nlinux fill\nswap 200\n", kGiB);
  const auto& e = p.table.entries;
  EXPECT_EQ(e[2].size, 200 * 2048u);
  EXPECT_EQ(e[2].start, e[1].start + e[1].size);
  EXPECT_LE(e[2].start + e[2].size - 1, p.range.last);
  EXPECT_EQ(e[1].size % 2048, 0u);
  EXPECT_GT(e[2].start + e[2].size - 1 + 2048, p.range.last);  // less than 1 MiB left over
}

TEST(Plan, PercentOfTheDisk) {
  Plan p = MustPlan("linux 50%\nlinux 25%\n", kGiB);
  EXPECT_EQ(p.table.entries[0].size, 512 * 2048u);
  EXPECT_EQ(p.table.entries[1].size, 256 * 2048u);
}

TEST(Plan, UnitsAndSectors) {
  Plan p = MustPlan("linux 1GiB\nlinux 1001s\nlinux 1\n", 4 * kGiB);
  const auto& e = p.table.entries;
  EXPECT_EQ(e[0].size, 2097152u);
  EXPECT_EQ(e[1].size, 1001u);
  EXPECT_EQ(e[1].start, 2048 + 2097152u);
  EXPECT_EQ(e[2].start, e[1].start + 2048);  // next MiB boundary after 1001 sectors
}

TEST(Plan, FourKSectors) {
  Plan p = MustPlan("label gpt\nlinux 100\nlinux fill\n", kGiB, 4096);
  EXPECT_EQ(p.table.entries[0].start, 256u);
  EXPECT_EQ(p.table.entries[0].size, 100 * 256u);
  EXPECT_EQ(p.range.last, kGiB / 4096 - 2 - 4);
}

TEST(Plan, ExplicitStartsAndNumbers) {
  Plan p = MustPlan("label gpt\nlinux 100 start=10MiB number=3\nswap 1 start=2048s\n", kGiB);
  ExpectEntries(p, {{3, 20480, 204800, "0FC63DAF-8483-4772-8E79-3D69D8477DE4"},
                    {4, 2048, 2048, "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"}});
}

TEST(Plan, FlagsAndIds) {
  Plan p = MustPlan("label mbr id=0x1234abcd\nlinux 100 boot\nswap 100\n", kGiB);
  EXPECT_EQ(p.table.id, "0x1234abcd");
  EXPECT_TRUE(p.table.entries[0].bootable);
  EXPECT_FALSE(p.table.entries[1].bootable);
  p = MustPlan("label gpt\nbios 1 boot name=grub partuuid=9D77528F-495B-404A-BFF9-B5D642A57D28\n", kGiB);
  EXPECT_TRUE(p.table.entries[0].bootable);
  EXPECT_EQ(p.table.entries[0].name, "grub");
  EXPECT_EQ(p.table.entries[0].uuid, "9D77528F-495B-404A-BFF9-B5D642A57D28");
  EXPECT_EQ(p.table.entries[0].type, "21686148-6449-6E6F-744E-656564454649");
}

void ExpectError(const std::string& text, uint64_t bytes, const std::string& where, const std::string& why) {
  auto p = PlanText(text, bytes);
  ASSERT_FALSE(p.ok()) << text;
  EXPECT_EQ(p.status().code(), Status::Code::kInvalid);
  EXPECT_EQ(p.status().message().rfind(where, 0), 0u) << p.status().message();
  EXPECT_NE(p.status().message().find(why), std::string::npos) << p.status().message();
}

TEST(Plan, TooSmallDiskNamesTheLine) {
  ExpectError("linux 3500\nextended fill\nlogical swap 500\nlogical linux fill\n", kGiB,
              "desc line 1: ", "does not fit on the disk (1073741824 bytes, 1024 MiB)");
  ExpectError("linux 300\nswap 800\n", kGiB, "desc line 2: ", "does not fit");
  ExpectError("linux 300\nswap 800\n", kGiB, "desc line 2: ", "77 MiB short");
  ExpectError("linux 300\nextended 200\nlogical swap 100\nlogical linux 100\n", kGiB,
              "desc line 4: ", "does not fit in the extended partition (desc line 2, 200 MiB)");
  ExpectError("linux 1023\nlinux fill\n", kGiB, "desc line 2: ", "no space left for fill");
  ExpectError("linux 1022\nswap fill\nlinux 1\n", kGiB, "desc line 2: ", "no space left for fill");
  ExpectError("linux 1000\nswap fill\nlinux 100\n", kGiB, "desc line 3: ", "does not fit");
  ExpectError("linux 1\n", 1 * kMiB, "the disk", "too small");
  ExpectError("label gpt\nlinux 1\n", 100 * 1024, "the disk", "too small for a GPT");
}

TEST(Plan, OverlapsAndEbrRoom) {
  ExpectError("linux 100 start=1MiB\nlinux 100 start=50MiB\n", kGiB, "desc line 2: ", "overlaps desc line 1");
  ExpectError("label gpt\nlinux 100 start=512s\n", kGiB, "desc line 2: ", "before the first usable sector 2048");
  EXPECT_TRUE(PlanText("linux 100 start=63s\n", kGiB).ok());  // old MBR layouts started at sector 63
  ExpectError("extended 500\nlogical linux 100\nlogical linux 100 start=102MiB\n", kGiB,
              "desc line 3: ", "at least 1 MiB after the previous logical");
  ExpectError("extended 500 start=1MiB\nlogical linux 100 start=1MiB\n", kGiB,
              "desc line 2: ", "before the first usable sector");
  ExpectError("extended 500\nlogical linux 100 start=300MiB\nlogical linux 100 start=100MiB\n", kGiB,
              "desc line 2: ", "logical partitions must be written in disk order");
}

TEST(Plan, TypesMustExistInTheTableKind) {
  ExpectError("bios 1\n", kGiB, "desc line 1: ", "has no MBR code");
  ExpectError("label gpt\ntype85 100\n", kGiB, "desc line 2: ", "only on MBR");  // extended: CheckLayout
  ExpectError("label gpt\ntype42 100\n", kGiB, "desc line 2: ", "no GPT equivalent");
  ExpectError("C12A7328-F81F-11D2-BA4B-00A0C93EC93C 100\n", kGiB, "desc line 1: ", "has no MBR code");
  Plan p = MustPlan("label gpt\ntype0c 100\ntype83 100\n", kGiB);
  EXPECT_EQ(p.table.entries[0].type, "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7");
  EXPECT_EQ(p.table.entries[1].type, "0FC63DAF-8483-4772-8E79-3D69D8477DE4");
}

TEST(Plan, MbrBeyondTwoTebibytes) {
  Plan p = MustPlan("linux fill\n", 3 * 1024 * kGiB);
  EXPECT_EQ(p.table.entries[0].start + p.table.entries[0].size, 1ull << 32);  // capped at the MBR limit
  ExpectError("linux 1TiB\nlinux 1100GiB\n", 3 * 1024 * kGiB, "desc line 2: ", "does not fit");
  EXPECT_TRUE(PlanText("label gpt\nlinux 1TiB\nlinux 1100GiB\n", 3 * 1024 * kGiB).ok());
}

}  // namespace
}  // namespace ka::layout
