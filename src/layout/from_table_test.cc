#include "layout/from_table.h"

#include <gtest/gtest.h>

#include "layout/desc_parser.h"
#include "layout/desc_writer.h"
#include "layout/plan.h"

namespace ka::layout {
namespace {

constexpr uint64_t kGiB = 1ull << 30;

Table SeedTable() {
  Table t;
  t.label = TableLabel::kMbr;
  t.id = "0xa42da67c";
  t.entries = {{1, 2048, 614400, "83", true, "", "", ""},
               {2, 616448, 1480704, "5", false, "", "", ""},
               {5, 618496, 204800, "82", false, "", "", ""},
               {6, 825344, 1271808, "83", false, "", "", ""}};
  return t;
}

std::string Desc(const Table& t, uint64_t bytes, FromTableOptions o = {}) {
  auto l = LayoutFromTable(t, Geometry{bytes, 512}, o);
  EXPECT_TRUE(l.ok()) << l.status().message();
  return l.ok() ? WriteDesc(*l) : std::string();
}

// The table `desc` plans to on a disk of `bytes` (512-byte sectors); empty, and a failure, if none.
Table PlanOf(const std::string& desc, uint64_t bytes) {
  auto l = ParseDesc(desc);
  EXPECT_TRUE(l.ok()) << l.status().message();
  if (!l.ok()) return {};
  auto p = PlanLayout(*l, Geometry{bytes, 512});
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? p->table : Table{};
}

TEST(FromTable, SeedTableGivesSeedLines) {
  EXPECT_EQ(Desc(SeedTable(), kGiB),
            "label mbr id=0xa42da67c\n"
            "linux 300 boot\n"
            "extended 723\n"
            "logical swap 100\n"
            "logical linux 621\n");
}

TEST(FromTable, FillLast) {
  EXPECT_EQ(Desc(SeedTable(), kGiB, {true}),
            "label mbr id=0xa42da67c\n"
            "linux 300 boot\n"
            "extended fill\n"
            "logical swap 100\n"
            "logical linux fill\n");
  // Not at the end of the disk: stays exact.
  EXPECT_EQ(Desc(SeedTable(), 2 * kGiB, {true}),
            "label mbr id=0xa42da67c\n"
            "linux 300 boot\n"
            "extended 723\n"
            "logical swap 100\n"
            "logical linux fill\n");
}

TEST(FromTable, NewIds) {
  Table t;
  t.label = TableLabel::kGpt;
  t.id = "A954DF34-F3A3-1F4B-B18A-2C1B0A395480";
  t.entries = {
      {1, 2048, 2048, "0FC63DAF-8483-4772-8E79-3D69D8477DE4", false, "", "9D77528F-495B-404A-BFF9-B5D642A57D28", ""}};
  EXPECT_EQ(Desc(t, kGiB),
            "label gpt id=A954DF34-F3A3-1F4B-B18A-2C1B0A395480\n"
            "linux 1 partuuid=9D77528F-495B-404A-BFF9-B5D642A57D28\n");
  FromTableOptions o;
  o.keep_ids = false;
  EXPECT_EQ(Desc(t, kGiB, o), "label gpt\nlinux 1\n");
}

TEST(FromTable, GapsNumbersAndOddSizes) {
  Table t;
  t.label = TableLabel::kGpt;
  t.id = "A954DF34-F3A3-1F4B-B18A-2C1B0A395480";
  const std::string L = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
  t.entries = {{1, 2048, 2048, "21686148-6449-6E6F-744E-656564454649", false, "grub", "", ""},
               {2, 4096, 1001, L, false, "", "", ""},      // odd size: sectors
               {3, 6144, 204800, L, true, "", "", ""},     // default start after the odd one
               {5, 409600, 204800, L, false, "", "", ""},  // a gap and a skipped number
               {7, 1050001, 1985, "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", false, "", "", ""}};  // unaligned
  std::string d = Desc(t, kGiB);
  EXPECT_EQ(d,
            "label gpt id=A954DF34-F3A3-1F4B-B18A-2C1B0A395480\n"
            "bios 1 name=grub\n"
            "linux 1001s\n"
            "linux 100 boot\n"
            "linux 100 start=200MiB number=5\n"
            "swap 1985s start=1050001s number=7\n");
  // ... and the desc plans back to the same table.
  const Table back = PlanOf(d, kGiB);
  ASSERT_EQ(back.entries.size(), t.entries.size());
  for (size_t i = 0; i < t.entries.size(); ++i) {
    EXPECT_EQ(back.entries[i].number, t.entries[i].number);
    EXPECT_EQ(back.entries[i].start, t.entries[i].start);
    EXPECT_EQ(back.entries[i].size, t.entries[i].size);
  }
}

TEST(FromTable, PrimaryAfterTheExtended) {
  Table t = SeedTable();
  t.entries[1].size = 512000;                                         // extended: 250 MiB
  t.entries[3].size = 100 * 2048;                                     // second logical: 100 MiB
  t.entries.push_back({3, 1128448, 204800, "c", false, "", "", ""});  // primary 3 after the extended
  std::string d = Desc(t, kGiB);
  EXPECT_EQ(d,
            "label mbr id=0xa42da67c\n"
            "linux 300 boot\n"
            "extended 250\n"
            "type0c 100\n"
            "logical swap 100\n"
            "logical linux 100\n");
}

TEST(FromTable, TableBreakingKaRulesStaysExplicit) {
  // Old-style logical partitions 63 sectors after their EBR: ka would not place
  // them so, and says it when planned; describe still writes every position.
  Table t;
  t.label = TableLabel::kMbr;
  t.entries = {{1, 63, 1000, "83", false, "", "", ""},
               {2, 2048, 100000, "5", false, "", "", ""},
               {5, 2111, 1000, "83", false, "", "", ""},
               {6, 3174, 1000, "83", false, "", "", ""}};
  std::string d = Desc(t, kGiB);
  EXPECT_NE(d.find("logical linux 1000s start=3174s number=6"), std::string::npos) << d;
}

}  // namespace
}  // namespace ka::layout
