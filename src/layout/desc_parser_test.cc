#include "layout/desc_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ka::layout {
namespace {

Layout MustParse(const std::string& text) {
  auto r = ParseDesc(text);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : Layout{};
}

std::string ErrorOf(const std::string& text) {
  auto r = ParseDesc(text);
  EXPECT_FALSE(r.ok()) << "accepted: " << text;
  return r.ok() ? std::string() : r.status().message();
}

// Section 3 of the seed, as written there.
TEST(DescParser, SeedDefaultLayout) {
  Layout l = MustParse("linux 3500\nextended fill\nlogical swap 500\nlogical linux fill\n");
  EXPECT_EQ(l.label, TableLabel::kMbr);
  EXPECT_FALSE(l.label_given);
  ASSERT_EQ(l.partitions.size(), 4u);
  EXPECT_EQ(l.partitions[0].type, PartType::Named("linux"));
  EXPECT_EQ(l.partitions[0].size, SizeSpec::MiB(3500));
  EXPECT_FALSE(l.partitions[0].logical);
  EXPECT_EQ(l.partitions[0].line, 1);
  EXPECT_EQ(l.partitions[1].type, PartType::Named("extended"));
  EXPECT_TRUE(l.partitions[1].size.is_fill());
  EXPECT_TRUE(l.partitions[2].logical);
  EXPECT_EQ(l.partitions[2].type, PartType::Named("swap"));
  EXPECT_EQ(l.partitions[2].size, SizeSpec::MiB(500));
  EXPECT_TRUE(l.partitions[3].logical);
  EXPECT_EQ(l.partitions[3].type, PartType::Named("linux"));
  EXPECT_TRUE(l.partitions[3].size.is_fill());
  EXPECT_EQ(l.partitions[3].line, 4);
}

// Section 2.1.3: "linux is the same as type83", other types as typeXX.
TEST(DescParser, SeedTypeForms) {
  Layout l =
      MustParse("type83 100\ntype82 200\ntype05 fill\nlogical type0c 50\nlogical typec 50\nlogical typeFD fill\n");
  EXPECT_EQ(l.partitions[0].type, PartType::Named("linux"));
  EXPECT_EQ(l.partitions[1].type, PartType::Named("swap"));
  EXPECT_EQ(l.partitions[2].type, PartType::Named("extended"));
  EXPECT_EQ(l.partitions[3].type.mbr, 0x0c);
  EXPECT_EQ(l.partitions[4].type.mbr, 0x0c);
  EXPECT_EQ(l.partitions[5].type, PartType::Named("raid"));
}

TEST(DescParser, EverySeedLineAlone) {
  for (const char* line : {"linux 3500", "extended fill", "logical swap 500", "logical linux fill", "swap 500",
                           "linux fill", "type83 3500", "type0c 100", "type7 20"}) {
    auto r = ParseDesc(line);
    EXPECT_TRUE(r.ok()) << line << ": " << r.status().message();
  }
}

TEST(DescParser, CommentsBlankLinesAndCrlf) {
  Layout l = MustParse("# golden node\n\n   \nlinux 3500   # root\r\n\t# swap next\nswap 500\n");
  ASSERT_EQ(l.partitions.size(), 2u);
  EXPECT_EQ(l.partitions[0].line, 4);
  EXPECT_EQ(l.partitions[1].line, 6);
  EXPECT_TRUE(MustParse("").partitions.empty());
  EXPECT_TRUE(MustParse("# only a comment").partitions.empty());
}

TEST(DescParser, Units) {
  Layout l = MustParse("linux 3500M\nlinux 3500MiB\nlinux 20G\nlinux 20GiB\nlinux 2t\nlinux 614400s\nlinux 50%\n");
  EXPECT_EQ(l.partitions[0].size, SizeSpec::MiB(3500));
  EXPECT_EQ(l.partitions[1].size, SizeSpec::MiB(3500));
  EXPECT_EQ(l.partitions[2].size, SizeSpec::GiB(20));
  EXPECT_EQ(l.partitions[3].size, SizeSpec::GiB(20));
  EXPECT_EQ(l.partitions[4].size, (SizeSpec{SizeSpec::Unit::kTiB, 2}));
  EXPECT_EQ(l.partitions[5].size, SizeSpec::Sectors(614400));
  EXPECT_EQ(l.partitions[6].size, SizeSpec::Percent(50));
}

TEST(DescParser, GptWithAttributes) {
  Layout l = MustParse(
      "label gpt\n"
      "efi 512MiB fs=vfat mount=/boot/efi name=\"EFI System\"\n"
      "bios 1\n"
      "linux 20GiB fs=ext4 mount=/ label=root uuid=0b5a3e3c-5a47-4b8f-9e0c-3f1d2a6b7c8d boot\n"
      "swap 2GiB fs=swap\n"
      "linux 50% fs=xfs mount=/srv partuuid=9d77528f-495b-404a-bff9-b5d642a57d28\n"
      "0FC63DAF-8483-4772-8E79-3D69D8477DE4 fill start=30GiB number=9\n");
  EXPECT_EQ(l.label, TableLabel::kGpt);
  EXPECT_TRUE(l.label_given);
  ASSERT_EQ(l.partitions.size(), 6u);
  const Partition& efi = l.partitions[0];
  EXPECT_EQ(efi.type, PartType::Named("efi"));
  EXPECT_EQ(efi.size, SizeSpec::MiB(512));
  EXPECT_EQ(efi.fs, "vfat");
  EXPECT_EQ(efi.mount, "/boot/efi");
  EXPECT_EQ(efi.name, "EFI System");
  const Partition& root = l.partitions[2];
  EXPECT_EQ(root.label, "root");
  EXPECT_EQ(root.uuid, "0b5a3e3c-5a47-4b8f-9e0c-3f1d2a6b7c8d");
  EXPECT_TRUE(root.boot);
  EXPECT_EQ(l.partitions[4].partuuid, "9D77528F-495B-404A-BFF9-B5D642A57D28");
  EXPECT_EQ(l.partitions[5].type, PartType::Named("linux"));
  EXPECT_EQ(*l.partitions[5].start, SizeSpec::GiB(30));
  EXPECT_EQ(*l.partitions[5].number, 9);
}

TEST(DescParser, HeaderForms) {
  EXPECT_EQ(MustParse("label mbr\nlinux 1").label, TableLabel::kMbr);
  EXPECT_EQ(MustParse("label dos\nlinux 1").label, TableLabel::kMbr);
  EXPECT_EQ(MustParse("label mbr id=0xA42DA67C\n").id, "0xa42da67c");
  EXPECT_EQ(MustParse("label mbr id=1234\n").id, "0x00001234");
  EXPECT_EQ(MustParse("label gpt id=a954df34-f3a3-1f4b-b18a-2c1b0a395480").id, "A954DF34-F3A3-1F4B-B18A-2C1B0A395480");
}

TEST(DescParser, QuotedValues) {
  Layout l = MustParse("label gpt\nlinux 1 name=\"my name\" label=\"a \\\"b\\\"\" mount=\"/srv/x y\" fs=ext4\n");
  ASSERT_EQ(l.partitions.size(), 1u);
  EXPECT_EQ(l.partitions[0].name, "my name");
  EXPECT_EQ(l.partitions[0].label, "a \"b\"");
  EXPECT_EQ(l.partitions[0].mount, "/srv/x y");
  // name= may not contain '"' (sfdisk cannot quote it)
  EXPECT_NE(ErrorOf("label gpt\nlinux 1 name=\"a\\\"b\"").find("cannot contain"), std::string::npos);
}

// Regression (desc_parser_fuzz): a control character inside quotes was accepted, and the desc
// that WriteDesc made of the layout then failed to parse ("control character in the line").
TEST(DescParser, ControlCharactersAreRefusedInQuotesToo) {
  for (std::string bad : {std::string("linux 1 mount=\"/sr\x05v\""), std::string("linux 1 label=\"a\tb\""),
                          std::string("linux 1 label=\"a\0b\"", 19), std::string("linux 1 label=\"\x1b[31m\"")})
    EXPECT_NE(ErrorOf(bad).find("control character"), std::string::npos) << bad;
  EXPECT_EQ(MustParse("linux 1 label=\"caf\xc3\xa9 \x7f\"").partitions[0].label, "caf\xc3\xa9 \x7f");
}

TEST(DescParser, BootableSpelling) {
  EXPECT_TRUE(MustParse("linux 100 bootable").partitions[0].boot);
  EXPECT_TRUE(MustParse("linux 100 boot").partitions[0].boot);
}

struct Bad {
  const char* text;
  const char* expect;  // substring of the message (after "desc line N: ")
  int line;
};

TEST(DescParser, MalformedLinesNameLineAndReason) {
  const std::vector<Bad> cases = {
      {"linux", "missing size", 1},
      {"logical", "'logical' needs a type and a size", 1},
      {"logical swap", "missing size", 1},
      {"linux 3500\nlinus 200", "unknown partition type 'linus'", 2},
      {"Linux 3500", "unknown partition type 'Linux'", 1},
      {"3500 linux", "unknown partition type '3500'", 1},
      {"linux big", "not a size", 1},
      {"linux -5", "not a size", 1},
      {"linux 0", "greater than zero", 1},
      {"linux 35x0", "unknown unit 'x0'", 1},
      {"linux 1.5G", "whole numbers", 1},
      {"linux 500MB", "use MiB, GiB or TiB", 1},
      {"linux 101%", "at most 100%", 1},
      {"linux fill2", "not a size", 1},
      {"linux 99999999999999999999999", "too large", 1},
      {"linux 18014398509481984G", "too large", 1},
      {"type 100", "bad type 'type'", 1},
      {"typezz 100", "bad type 'typezz'", 1},
      {"type123 100", "bad type 'type123'", 1},
      {"type00 100", "empty slot", 1},
      {"typeC12A7328-F81F-11D2-BA4B 100", "bad type", 1},
      {"linux 100 color=red", "unknown attribute 'color='", 1},
      {"linux 100 fs=ext4 fs=xfs", "fs= given twice", 1},
      {"linux 100 boot boot", "'boot' given twice", 1},
      {"linux 100 fs=", "fs= needs a value", 1},
      {"linux 100 fs=ext 4", "unexpected '4'", 1},
      {"linux 100 fs=ext/4", "not a filesystem type", 1},
      {"linux 100 mount=srv", "absolute path", 1},
      {"linux 100 uuid=not-a-uuid!", "filesystem UUID", 1},
      {"linux 100 partuuid=1234", "partition GUID", 1},
      {"linux 100 number=0", "1 to 128", 1},
      {"linux 100 number=129", "1 to 128", 1},
      {"linux 100 number=x", "not a whole number", 1},
      {"linux 100 start=fill", "not fill or a percentage", 1},
      {"linux 100 start=10%", "not fill or a percentage", 1},
      {"linux 100 name=\"abc", "unterminated quote", 1},
      {"linux 100 name=0123456789012345678901234567890123456", "at most 36", 1},
      {"linux 100 boot=yes", "unknown attribute 'boot='", 1},
      {"fs=ext4 linux 100", "starts with its type", 1},
      {"label", "needs a table kind", 1},
      {"label sun", "unknown table kind 'sun'", 1},
      {"label gpt foo", "only id=", 1},
      {"label gpt\nlabel gpt", "a second 'label' line", 2},
      {"linux 100\nlabel gpt", "must come before the partition lines", 2},
      {"label mbr id=0x123456789", "up to 8 hex digits", 1},
      {"label mbr id=zz", "up to 8 hex digits", 1},
      {"label gpt id=0x1234", "GUID", 1},
      {"label mbr id=1 id=2", "id= given twice", 1},
      {"linux 100 label=a\x01z", "control character", 1},
  };
  for (const Bad& b : cases) {
    std::string msg = ErrorOf(b.text);
    std::string where = "desc line " + std::to_string(b.line) + ": ";
    EXPECT_EQ(msg.rfind(where, 0), 0u) << b.text << " -> " << msg;
    EXPECT_NE(msg.find(b.expect), std::string::npos) << b.text << " -> " << msg;
  }
}

TEST(DescParser, SizeSpecAlone) {
  EXPECT_EQ(*ParseSizeSpec("fill"), SizeSpec::Fill());
  EXPECT_EQ(*ParseSizeSpec("7"), SizeSpec::MiB(7));
  EXPECT_FALSE(ParseSizeSpec("").ok());
  EXPECT_FALSE(ParseSizeSpec("FILL").ok());
}

}  // namespace
}  // namespace ka::layout
