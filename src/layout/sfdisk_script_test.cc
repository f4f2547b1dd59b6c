#include "layout/sfdisk_script.h"

#include <gtest/gtest.h>

#include "layout/desc_parser.h"
#include "layout/plan.h"

namespace ka::layout {
namespace {

constexpr uint64_t kGiB = 1ull << 30;

// The sfdisk script of `desc` planned on a 1 GiB disk of 512-byte sectors (or what failed).
std::string ScriptOf(const std::string& desc, const std::string& device) {
  auto l = ParseDesc(desc);
  if (!l.ok()) return "ParseDesc: " + l.status().message();
  auto p = PlanLayout(*l, Geometry{kGiB, 512});
  if (!p.ok()) return "PlanLayout: " + p.status().message();
  return SfdiskScript(p->table, device);
}

TEST(SfdiskScript, SeedLayoutScript) {
  EXPECT_EQ(ScriptOf("linux 300 boot\nextended fill\nlogical swap 100\nlogical linux fill\n", "/dev/loop3"),
            "label: dos\n"
            "unit: sectors\n"
            "\n"
            "/dev/loop3p1 : start=2048, size=614400, type=83, bootable\n"
            "/dev/loop3p2 : start=616448, size=1480704, type=5\n"
            "/dev/loop3p5 : start=618496, size=204800, type=82\n"
            "/dev/loop3p6 : start=825344, size=1271808, type=83\n");
}

TEST(SfdiskScript, GptScript) {
  EXPECT_EQ(ScriptOf("label gpt id=A954DF34-F3A3-1F4B-B18A-2C1B0A395480\n"
                     "efi 512MiB name=\"EFI System\" fs=vfat\n"
                     "linux fill boot partuuid=9D77528F-495B-404A-BFF9-B5D642A57D28\n",
                     "/dev/sda"),
            "label: gpt\n"
            "label-id: A954DF34-F3A3-1F4B-B18A-2C1B0A395480\n"
            "unit: sectors\n"
            "\n"
            "/dev/sda1 : start=2048, size=1048576, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"EFI System\"\n"
            "/dev/sda2 : start=1050624, size=1044480, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, "
            "uuid=9D77528F-495B-404A-BFF9-B5D642A57D28, attrs=\"LegacyBIOSBootable\"\n");
}

// Output of sfdisk 2.38.1 --json on a loop device (dos) and an image file (gpt).
constexpr const char* kDosJson = R"({
   "partitiontable": {
      "label": "dos",
      "id": "0xa42da67c",
      "device": "/dev/loop0",
      "unit": "sectors",
      "sectorsize": 512,
      "partitions": [
         {"node": "/dev/loop0p1", "start": 2048, "size": 614400, "type": "83", "bootable": true},
         {"node": "/dev/loop0p2", "start": 616448, "size": 1480704, "type": "5"},
         {"node": "/dev/loop0p5", "start": 618496, "size": 204800, "type": "82"},
         {"node": "/dev/loop0p6", "start": 825344, "size": 1271808, "type": "83"}
      ]
   }
})";

constexpr const char* kGptJson = R"({
   "partitiontable": {
      "label": "gpt",
      "id": "22F2BD89-3610-A24D-95F8-11404405FB73",
      "device": "a.img",
      "unit": "sectors",
      "firstlba": 2048,
      "lastlba": 524254,
      "sectorsize": 512,
      "partitions": [
         {"node": "a.img2", "start": 206848, "size": 315392, "type": "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
          "uuid": "17AEDDE8-F7E4-D94E-A0E6-C7E1DD51899A", "name": "root"},
         {"node": "a.img1", "start": 2048, "size": 204800, "type": "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
          "uuid": "FAD78576-F525-0849-9BEB-8071F7145E94", "name": "EFI System", "attrs": "LegacyBIOSBootable"}
      ]
   }
})";

TEST(SfdiskJson, Dos) {
  auto t = ParseSfdiskJson(kDosJson);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->label, TableLabel::kMbr);
  EXPECT_EQ(t->id, "0xa42da67c");
  EXPECT_EQ(t->sector_size, 512u);
  ASSERT_EQ(t->entries.size(), 4u);
  EXPECT_EQ(t->entries[0], (TableEntry{1, 2048, 614400, "83", true, "", "", ""}));
  EXPECT_EQ(t->entries[1].number, 2);
  EXPECT_EQ(t->entries[1].type, "5");
  EXPECT_EQ(t->entries[2].number, 5);
  EXPECT_EQ(t->entries[3], (TableEntry{6, 825344, 1271808, "83", false, "", "", ""}));
}

TEST(SfdiskJson, GptSortedByNumber) {
  auto t = ParseSfdiskJson(kGptJson);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->label, TableLabel::kGpt);
  ASSERT_EQ(t->entries.size(), 2u);
  EXPECT_EQ(t->entries[0].number, 1);
  EXPECT_EQ(t->entries[0].name, "EFI System");
  EXPECT_TRUE(t->entries[0].bootable);
  EXPECT_EQ(t->entries[0].uuid, "FAD78576-F525-0849-9BEB-8071F7145E94");
  EXPECT_EQ(t->entries[1].number, 2);
  EXPECT_FALSE(t->entries[1].bootable);
}

TEST(SfdiskJson, EmptyTableAndErrors) {
  auto t =
      ParseSfdiskJson(R"({"partitiontable": {"label": "gpt", "id": "X", "device": "/dev/vda", "unit": "sectors"}})");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->entries.empty());
  EXPECT_FALSE(ParseSfdiskJson("not json").ok());
  EXPECT_FALSE(ParseSfdiskJson("{}").ok());
  auto sun = ParseSfdiskJson(R"({"partitiontable": {"label": "sun", "device": "/dev/sda", "unit": "sectors"}})");
  ASSERT_FALSE(sun.ok());
  EXPECT_NE(sun.status().message().find("unsupported partition table kind 'sun'"), std::string::npos);
  EXPECT_FALSE(ParseSfdiskJson(R"({"partitiontable": {"label": "dos", "device": "/dev/sda", "unit": "sectors",
      "partitions": [{"node": "/dev/sda1", "start": "x", "size": 1, "type": "83"}]}})")
                   .ok());
}

TEST(SfdiskJson, NodeNumbers) {
  auto t = ParseSfdiskJson(R"({"partitiontable": {"label": "gpt", "device": "/dev/nvme0n1", "unit": "sectors",
      "partitions": [{"node": "/dev/nvme0n1p12", "start": 2048, "size": 8, "type": "0FC63DAF-8483-4772-8E79-3D69D8477DE4"},
                     {"node": "/dev/nvme0n1p3", "start": 4096, "size": 8, "type": "0fc63daf-8483-4772-8e79-3d69d8477de4"}]}})");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->entries[0].number, 3);
  EXPECT_EQ(t->entries[1].number, 12);
  EXPECT_EQ(t->entries[0].type, "0FC63DAF-8483-4772-8E79-3D69D8477DE4");
}

}  // namespace
}  // namespace ka::layout
