#include "layout/desc_writer.h"

#include <gtest/gtest.h>

#include "layout/desc_parser.h"

namespace ka::layout {
namespace {

TEST(DescWriter, SeedComesOutAsWritten) {
  const std::string seed = "linux 3500\nextended fill\nlogical swap 500\nlogical linux fill\n";
  auto l = ParseDesc(seed);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(WriteDesc(*l), seed);
}

TEST(DescWriter, CanonicalForms) {
  auto l = ParseDesc(
      "# comment\n"
      "label dos\n"
      "type83   3500M   bootable\n"
      "type0c 1G\n"
      "typeef 2048s fs=vfat\n"
      "extended 50%\n"
      "logical type8e fill\n");
  ASSERT_TRUE(l.ok()) << l.status().message();
  EXPECT_EQ(WriteDesc(*l),
            "label mbr\n"
            "linux 3500 boot\n"
            "type0c 1GiB\n"
            "efi 2048s fs=vfat\n"
            "extended 50%\n"
            "logical lvm fill\n");
}

TEST(DescWriter, RichLayoutRoundTrips) {
  Layout l;
  l.label = TableLabel::kGpt;
  l.label_given = true;
  l.id = "A954DF34-F3A3-1F4B-B18A-2C1B0A395480";
  Partition efi;
  efi.type = PartType::Named("efi");
  efi.size = SizeSpec::MiB(512);
  efi.fs = "vfat";
  efi.mount = "/boot/efi";
  efi.name = "EFI System";
  efi.uuid = "ABCD-1234";
  Partition root;
  root.type = PartType::Named("linux");
  root.size = SizeSpec::GiB(20);
  root.start = SizeSpec::Sectors(4096);
  root.number = 4;
  root.boot = true;
  root.fs = "ext4";
  root.mount = "/srv/my data";
  root.label = "say \"hi\" \\o/";
  root.partuuid = "9D77528F-495B-404A-BFF9-B5D642A57D28";
  Partition raw;
  raw.type = {{}, -1, "933AC7E1-2EB4-4F13-B844-0E14E2AEF915"};
  raw.size = SizeSpec::Fill();
  raw.start = SizeSpec::MiB(30000);
  l.partitions = {efi, root, raw};
  std::string text = WriteDesc(l);
  EXPECT_EQ(text,
            "label gpt id=A954DF34-F3A3-1F4B-B18A-2C1B0A395480\n"
            "efi 512 name=\"EFI System\" fs=vfat mount=/boot/efi uuid=ABCD-1234\n"
            "linux 20GiB start=4096s number=4 boot fs=ext4 mount=\"/srv/my data\" label=\"say \\\"hi\\\" \\\\o/\" "
            "partuuid=9D77528F-495B-404A-BFF9-B5D642A57D28\n"
            "933AC7E1-2EB4-4F13-B844-0E14E2AEF915 fill start=30000MiB\n");
  auto back = ParseDesc(text);
  ASSERT_TRUE(back.ok()) << back.status().message();
  for (size_t i = 0; i < l.partitions.size(); ++i) l.partitions[i].line = static_cast<int>(i) + 2;
  EXPECT_EQ(*back, l);
}

TEST(DescWriter, Sizes) {
  EXPECT_EQ(FormatSizeSpec(SizeSpec::MiB(3500)), "3500");
  EXPECT_EQ(FormatSizeSpec(SizeSpec::GiB(2)), "2GiB");
  EXPECT_EQ(FormatSizeSpec(SizeSpec::Sectors(7)), "7s");
  EXPECT_EQ(FormatSizeSpec(SizeSpec::Percent(50)), "50%");
  EXPECT_EQ(FormatSizeSpec(SizeSpec::Fill()), "fill");
  EXPECT_EQ(FormatStartSpec(SizeSpec::MiB(1)), "1MiB");
}

}  // namespace
}  // namespace ka::layout
