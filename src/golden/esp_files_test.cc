#include "golden/esp_files.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "format/manifest.h"
#include "testing/fake_env.h"

namespace ka::golden {
namespace {

TEST(GoldenEspFiles, FromMdirsListing) {
  EXPECT_EQ(ParseMdirListing("::/EFI/BOOT/\n::/EFI/debian/\n::/EFI/BOOT/BOOTX64.EFI\n::/EFI/BOOT/grubx64.efi\n"
                             "::/EFI/debian/shimx64.efi\n::/EFI/debian/grub.cfg\n::/efi/x/a.EFI\r\n"),
            (std::vector<std::string>{"/EFI/BOOT/BOOTX64.EFI", "/EFI/BOOT/grubx64.efi", "/EFI/debian/shimx64.efi",
                                      "/EFI/x/a.EFI"}));
  EXPECT_TRUE(ParseMdirListing("mdir: File \"::/EFI\" not found\n").empty());
  EXPECT_TRUE(ParseMdirListing("::/EFI/a\x01"
                               "b.efi\n::/EFI/" +
                               std::string(300, 'a') + ".efi\n")
                  .empty());
  std::string many;
  for (int i = 0; i < 100; ++i) many += "::/EFI/v/f" + std::to_string(i) + ".efi\n";
  EXPECT_EQ(ParseMdirListing(many).size(), format::kMaxEspFiles);
}

TEST(GoldenEspFiles, FromAMountedEspOrItsDevice) {
  os::FakeEnv env;
  env.AddFile("/mnt/esp/EFI/BOOT/BOOTX64.EFI", "MZ");
  env.AddFile("/mnt/esp/EFI/debian/shimx64.efi", "MZ");
  env.AddFile("/mnt/esp/EFI/debian/grub.cfg", "");
  auto files = EspFilesInDir(env, "/mnt/esp");
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"/EFI/BOOT/BOOTX64.EFI", "/EFI/debian/shimx64.efi"}));

  env.tool_paths["mdir"] = "/usr/bin/mdir";
  env.Script({"/usr/bin/mdir", "-/", "-b", "-i", "/dev/loop7", "::/EFI"}, {0, "::/EFI/BOOT/BOOTX64.EFI\n", ""});
  auto dev = EspFilesOnDevice(env, "/dev/loop7");
  ASSERT_TRUE(dev.ok());
  EXPECT_EQ(dev.value(), (std::vector<std::string>{"/EFI/BOOT/BOOTX64.EFI"}));
  env.missing_tools.insert("mdir");
  EXPECT_FALSE(EspFilesOnDevice(env, "/dev/loop7").ok());
}

}  // namespace
}  // namespace ka::golden
