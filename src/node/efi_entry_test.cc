#include "node/efi_entry.h"

#include <gtest/gtest.h>

#include "node/efibootmgr_listing.h"
#include "testing/error_of.h"
#include "testing/fake_env.h"

namespace ka::node {
namespace {

constexpr const char* kListing =
    "BootCurrent: 0001\n"
    "Timeout: 0 seconds\n"
    "BootOrder: 0001,0003,0000\n"
    "Boot0000* UiApp\tFvVol(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/FvFile(462caa21-7614-4503-836e-8ab6f4662331)\n"
    "Boot0001* UEFI PXEv4 (MAC:525400123456)\tPciRoot(0x0)/Pci(0x3,0x0)/MAC(525400123456,1)/IPv4(0.0.0.0)\n"
    "Boot0003  ka clone: debian\tHD(2,GPT,...)/File(\\EFI\\debian\\shimx64.efi)\n";

TEST(NodeEfiEntry, ParsesEfibootmgrsListing) {
  auto st = ParseEfibootmgr(kListing);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->order, (std::vector<uint16_t>{1, 3, 0}));
  ASSERT_EQ(st->entries.size(), 3u);
  EXPECT_EQ(st->entries[1].label, "UEFI PXEv4 (MAC:525400123456)");
  EXPECT_TRUE(st->entries[1].active);
  EXPECT_EQ(st->entries[2].number, 3);
  EXPECT_FALSE(st->entries[2].active);
  EXPECT_EQ(st->entries[2].label, "ka clone: debian");
  EXPECT_FALSE(ParseEfibootmgr("BootOrder: 0001,zz\n").ok());
  EXPECT_FALSE(ParseEfibootmgr("Boot00g1* x\n").ok());
  EXPECT_TRUE(ParseEfibootmgr("BootNext: 0001\nBootCurrent: 0002\n")->entries.empty());
  EXPECT_TRUE(ParseEfibootmgr("").ok());
  EXPECT_FALSE(ParseEfibootmgr(std::string(70000, 'B')).ok());
}

TEST(NodeEfiEntry, ChoosesShimThenGrubThenTheFallbackPath) {
  EXPECT_EQ(ChooseEfiLoader({"/EFI/BOOT/BOOTX64.EFI", "/EFI/debian/grubx64.efi", "/EFI/debian/shimx64.efi"}),
            "/EFI/debian/shimx64.efi");
  EXPECT_EQ(ChooseEfiLoader({"/EFI/BOOT/BOOTX64.EFI", "/EFI/debian/grubx64.efi"}), "/EFI/debian/grubx64.efi");
  EXPECT_EQ(ChooseEfiLoader({"/EFI/BOOT/grubx64.efi", "/EFI/boot/bootx64.efi"}), "/EFI/boot/bootx64.efi");
  EXPECT_EQ(ChooseEfiLoader({"/EFI/debian/mmx64.efi"}), "");
  EXPECT_EQ(EfiPath("/EFI/debian/shimx64.efi"), "\\EFI\\debian\\shimx64.efi");
  EXPECT_EQ(EfiEntryLabel("/EFI/debian/shimx64.efi"), "ka clone: debian");
  EXPECT_EQ(OrderWith({1, 3, 0}, 3, false), (std::vector<uint16_t>{3, 1, 0}));
  EXPECT_EQ(OrderWith({1, 3, 0}, 3, true), (std::vector<uint16_t>{1, 0, 3}));
  EXPECT_EQ(OrderWith({1, 0}, 7, false), (std::vector<uint16_t>{7, 1, 0}));
}

TEST(NodeEfiEntry, ReplacesTheStaleEntryAndPutsTheNewOneFirst) {
  os::FakeEnv env;
  const std::string mgr = "/usr/bin/efibootmgr";
  env.Script({mgr, "-q"}, {0, "", ""});  // the changes (quiet)
  env.Script({mgr}, {0, kListing, ""});
  env.on_run = [&](const std::vector<std::string>& argv) {
    if (argv.size() > 2 && argv[2] == "--create")  // the firmware's list from now on
      env.Script({mgr}, {0,
                         "BootOrder: 0004,0001,0000\n"
                         "Boot0000* UiApp\tFvVol()\n"
                         "Boot0001* UEFI PXEv4 (MAC:525400123456)\tPciRoot(0x0)\n"
                         "Boot0004* ka clone: debian\tHD(2,GPT)/File(\\EFI\\debian\\shimx64.efi)\n",
                         ""});
  };
  Status s = WriteEfiEntry(env, mgr, "/dev/vda", 2, "/EFI/debian/shimx64.efi", false);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(env.argvs(), (std::vector<std::vector<std::string>>{
                             {mgr},
                             {mgr, "-q", "-b", "0003", "-B"},
                             {mgr, "-q", "--create", "--disk", "/dev/vda", "--part", "2", "--label", "ka clone: debian",
                              "--loader", "\\EFI\\debian\\shimx64.efi"},
                             {mgr},
                             {mgr, "-q", "--bootorder", "0004,0001,0000"},
                         }));
}

TEST(NodeEfiEntry, AFailureNamesTheStep) {
  os::FakeEnv env;
  const std::string mgr = "/usr/bin/efibootmgr";
  env.Script({mgr}, {0, "BootOrder: 0001\nBoot0001* PXE\n", ""});
  env.Script({mgr, "-q", "--create"}, {5, "", "Could not prepare Boot variable: No space left on device\n"});
  EXPECT_NE(WriteEfiEntry(env, mgr, "/dev/vda", 2, "/EFI/debian/shimx64.efi", true)
                .message()
                .find("creating the UEFI boot entry ka clone: debian"),
            std::string::npos);
}

}  // namespace
}  // namespace ka::node
