#include "netboot/build_info.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ka::netboot {
namespace {

TEST(BuildInfo, UefiLoader) {
  EXPECT_EQ(ParseBuildUefiLoader(R"({"format":1,"uefi_boot":"shim"})").value(), UefiLoader::kShim);
  EXPECT_EQ(ParseBuildUefiLoader(R"({"format":1,"uefi_boot":"ipxe"})").value(), UefiLoader::kIpxe);
  EXPECT_EQ(ParseBuildUefiLoader(R"({"format":1})").value(), UefiLoader::kIpxe);  // older builds
  for (const char* bad :
       {"", "[]", "{", R"({"uefi_boot":"grub"})", R"({"uefi_boot":1})", R"({"uefi_boot":null})", "\"shim\""}) {
    EXPECT_FALSE(ParseBuildUefiLoader(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseBuildUefiLoader(std::string(5 << 20, ' ')).ok());
  EXPECT_STREQ(UefiLoaderName(UefiLoader::kShim), "shim");
  EXPECT_STREQ(UefiLoaderName(UefiLoader::kIpxe), "ipxe");
}

TEST(BuildInfo, ReadBesideTheTftpRoot) {
  namespace fs = std::filesystem;
  std::string t = (fs::temp_directory_path() / "ka-build-info-XXXXXX").string();
  const std::string dir = ::mkdtemp(t.data());
  fs::create_directories(dir + "/tftp");
  EXPECT_EQ(ReadBuildUefiLoader(dir + "/tftp").value(), UefiLoader::kIpxe);  // no build.json
  std::ofstream(dir + "/build.json") << R"({"format":1,"uefi_boot":"shim"})";
  EXPECT_EQ(ReadBuildUefiLoader(dir + "/tftp").value(), UefiLoader::kShim);
  std::ofstream(dir + "/build.json") << "not json";
  auto bad = ReadBuildUefiLoader(dir + "/tftp");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(dir + "/build.json"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ka::netboot
