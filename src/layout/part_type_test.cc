#include "layout/part_type.h"

#include <gtest/gtest.h>

namespace ka::layout {
namespace {

TEST(PartType, NamesCodesAndGuids) {
  EXPECT_EQ(*ParsePartType("linux"), PartType::Named("linux"));
  EXPECT_EQ(*ParsePartType("type83"), PartType::Named("linux"));
  EXPECT_EQ(*ParsePartType("type82"), PartType::Named("swap"));
  EXPECT_EQ(*ParsePartType("type5"), PartType::Named("extended"));
  EXPECT_EQ(*ParsePartType("typeEF"), PartType::Named("efi"));
  EXPECT_EQ(ParsePartType("type0c")->mbr, 0x0c);
  EXPECT_EQ(*ParsePartType("c12a7328-f81f-11d2-ba4b-00a0c93ec93b"), PartType::Named("efi"));
  EXPECT_EQ(*ParsePartType("typeC12A7328-F81F-11D2-BA4B-00A0C93EC93B"), PartType::Named("efi"));
  EXPECT_EQ(ParsePartType("933ac7e1-2eb4-4f13-b844-0e14e2aef915")->guid, "933AC7E1-2EB4-4F13-B844-0E14E2AEF915");
  EXPECT_FALSE(ParsePartType("ext4").ok());
}

TEST(PartType, Format) {
  EXPECT_EQ(FormatPartType(*ParsePartType("type0c")), "type0c");
  EXPECT_EQ(FormatPartType(*ParsePartType("type83")), "linux");
  EXPECT_EQ(FormatPartType(*ParsePartType("933ac7e1-2eb4-4f13-b844-0e14e2aef915")),
            "933AC7E1-2EB4-4F13-B844-0E14E2AEF915");
}

TEST(PartType, Extended) {
  EXPECT_TRUE(IsExtended(*ParsePartType("extended")));
  EXPECT_TRUE(IsExtended(*ParsePartType("type0f")));
  EXPECT_TRUE(IsExtended(*ParsePartType("type85")));
  EXPECT_FALSE(IsExtended(*ParsePartType("linux")));
}

TEST(PartType, SfdiskFields) {
  EXPECT_EQ(*SfdiskType(PartType::Named("linux"), TableLabel::kMbr), "83");
  EXPECT_EQ(*SfdiskType(PartType::Named("extended"), TableLabel::kMbr), "5");
  EXPECT_EQ(*SfdiskType(*ParsePartType("type0c"), TableLabel::kMbr), "c");
  EXPECT_EQ(*SfdiskType(PartType::Named("swap"), TableLabel::kGpt), "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F");
  EXPECT_EQ(*SfdiskType(PartType::Named("efi"), TableLabel::kMbr), "ef");
  EXPECT_FALSE(SfdiskType(PartType::Named("bios"), TableLabel::kMbr).ok());
  EXPECT_FALSE(SfdiskType(PartType::Named("extended"), TableLabel::kGpt).ok());
  EXPECT_EQ(*PartTypeFromSfdisk("5", TableLabel::kMbr), PartType::Named("extended"));
  EXPECT_EQ(PartTypeFromSfdisk("f", TableLabel::kMbr)->mbr, 0x0f);
  EXPECT_EQ(*PartTypeFromSfdisk("0FC63DAF-8483-4772-8E79-3D69D8477DE4", TableLabel::kGpt), PartType::Named("linux"));
  EXPECT_FALSE(PartTypeFromSfdisk("83", TableLabel::kGpt).ok());
  EXPECT_FALSE(PartTypeFromSfdisk("xyz", TableLabel::kMbr).ok());
}

}  // namespace
}  // namespace ka::layout
