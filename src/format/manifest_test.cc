#include "format/manifest.h"

#include <gtest/gtest.h>

namespace ka::format {
namespace {

Manifest Sample() {
  Manifest m;
  m.desc = "label mbr\nlinux 100 fs=ext4\n";
  m.golden_disk = 1 << 30;
  ManifestPartition p;
  p.number = 1;
  p.fs = "ext4";
  p.uuid = "0a1b2c3d-0000-4000-8000-000000000001";
  p.mount = "/";
  p.method = Method::kTree;
  p.size = 100 << 20;
  p.used = 10 << 20;
  p.exclude = {"tmp", "var/cache"};
  m.partitions.push_back(p);
  m.bootloader = "grub";
  m.mbr_hex = std::string(892, 'a');
  return m;
}

TEST(Manifest, RoundTrip) {
  Manifest m = Sample();
  auto back = Manifest::FromJson(m.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToJson(), m.ToJson());
  EXPECT_EQ(back->Root()->number, 1);
  EXPECT_EQ(back->used_bytes(), 10u << 20);
}

TEST(Manifest, EveryBootloaderTheGoldenSideMakesIsAccepted) {
  for (const char* b : {"grub", "lilo", "none", "grub-node"}) {
    Manifest m = Sample();
    m.bootloader = b;
    auto back = Manifest::FromJson(m.ToJson());
    ASSERT_TRUE(back.ok()) << b << ": " << back.status().ToString();
    EXPECT_EQ(back->bootloader, b);
  }
  Manifest bad = Sample();
  bad.bootloader = "syslinux";
  EXPECT_FALSE(Manifest::FromJson(bad.ToJson()).ok());
}

TEST(Manifest, TheBootDescriptionRoundTripsAndIsChecked) {
  Manifest m = Sample();
  m.boot.firmware = "uefi";
  m.boot.efi_entry = "last";
  m.boot.known = true;
  m.boot.grub_platforms = {"i386-pc", "x86_64-efi"};
  m.boot.signed_efi = true;
  m.boot.esp_files = {"/EFI/BOOT/BOOTX64.EFI", "/EFI/debian/shimx64.efi"};
  auto back = Manifest::FromJson(m.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToJson(), m.ToJson());
  EXPECT_TRUE(back->boot.EspHas("/efi/boot/bootx64.efi"));
  EXPECT_TRUE(back->boot.HasGrubPlatform("x86_64-efi"));

  auto old = Sample().ToJson();  // a golden that says nothing of the boot: defaults, nothing known
  old.erase("boot");
  auto o = Manifest::FromJson(old);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->boot.firmware, "auto");
  EXPECT_FALSE(o->boot.known);

  for (auto [key, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"firmware", "coreboot"},
           {"efi_entry", "middle"},
           {"grub_platforms", {"arm64-efi"}},
           {"esp_files", {"EFI/BOOT/BOOTX64.EFI"}},
           {"esp_files", {"/EFI/../x.efi"}},
           {"esp_files", {"/EFI/a\\b.efi"}},
           {"esp_files", nlohmann::json(std::vector<std::string>(65, "/EFI/BOOT/BOOTX64.EFI"))}}) {
    auto j = m.ToJson();
    j["boot"][key] = value;
    EXPECT_FALSE(Manifest::FromJson(j).ok()) << key << " " << value.dump();
  }
}

TEST(Manifest, RejectsBadInput) {
  auto j = Sample().ToJson();
  j["version"] = 2;
  EXPECT_NE(Manifest::FromJson(j).status().message().find("version 2"), std::string::npos);
  j = Sample().ToJson();
  j["partitions"][0]["exclude"] = {"../etc"};
  EXPECT_FALSE(Manifest::FromJson(j).ok());
  j = Sample().ToJson();
  j["partitions"][0]["method"] = "magic";
  EXPECT_FALSE(Manifest::FromJson(j).ok());
  j = Sample().ToJson();
  j["mbr"] = "00";
  EXPECT_FALSE(Manifest::FromJson(j).ok());
  j = Sample().ToJson();
  j.erase("desc");
  EXPECT_EQ(Manifest::FromJson(j).status().code(), Status::Code::kProtocol);
  EXPECT_FALSE(Manifest::FromJson(nlohmann::json::array()).ok());
}


// The mount point decides where a node mounts a filesystem and re-creates excluded
// directories: it is checked like the excluded directories.
TEST(Manifest, MountPointsAreChecked) {
  for (const char* ok : {"/", "/boot", "/boot/efi", "/srv/a..b", "/x/.../y"}) {
    auto j = Sample().ToJson();
    j["partitions"][0]["mount"] = ok;
    EXPECT_TRUE(Manifest::FromJson(j).ok()) << ok;
  }
  auto j = Sample().ToJson();
  j["partitions"][0]["mount"] = "";  // a partition that is not in the golden's fstab
  EXPECT_TRUE(Manifest::FromJson(j).ok());
  for (std::string bad : {std::string("boot"), std::string("../boot"), std::string("/.."), std::string("/boot/../.."),
                          std::string("/a/../b"), std::string("/boot\0/x", 8), std::string(4096, '/'),
                          "/" + std::string(4095, 'a')}) {
    j = Sample().ToJson();
    j["partitions"][0]["mount"] = bad;
    auto m = Manifest::FromJson(j);
    ASSERT_FALSE(m.ok()) << bad.size();
    EXPECT_EQ(m.status().code(), Status::Code::kProtocol);
    EXPECT_NE(m.status().message().find("mount point"), std::string::npos) << m.status().message();
  }
  j["partitions"][0]["mount"] = "/" + std::string(4094, 'a');  // 4095 bytes: the limit
  EXPECT_TRUE(Manifest::FromJson(j).ok());
}

TEST(Manifest, ExcludedDirectoriesAreChecked) {
  for (std::string bad : {std::string(""), std::string("/tmp"), std::string(".."), std::string("var/../.."),
                          std::string("tmp\0x", 5), std::string(4096, 'a')}) {
    auto j = Sample().ToJson();
    j["partitions"][0]["exclude"] = {bad};
    EXPECT_FALSE(Manifest::FromJson(j).ok()) << bad;
  }
  auto j = Sample().ToJson();
  j["partitions"][0]["exclude"] = {"var/cache..old", "a/.b"};
  EXPECT_TRUE(Manifest::FromJson(j).ok());
}

// Regression: a float where an integer belongs was converted with static_cast, undefined
// behaviour when out of range ({"version": 1e300}: UBSan float-cast-overflow in nlohmann's
// from_json); and a negative number became a huge size.
TEST(Manifest, NumbersMustBeWholeAndInRange) {
  for (const char* key : {"version", "golden_disk"}) {
    for (nlohmann::json v : {nlohmann::json(1e300), nlohmann::json(1.0), nlohmann::json(-1), nlohmann::json("1")}) {
      auto j = Sample().ToJson();
      j[key] = v;
      auto m = Manifest::FromJson(j);
      EXPECT_FALSE(m.ok()) << key << " " << v.dump();
      EXPECT_EQ(m.status().code(), Status::Code::kProtocol);
    }
  }
  for (const char* key : {"number", "size", "used"}) {
    for (nlohmann::json v : {nlohmann::json(-1e300), nlohmann::json(2.5), nlohmann::json(nullptr)}) {
      auto j = Sample().ToJson();
      j["partitions"][0][key] = v;
      EXPECT_FALSE(Manifest::FromJson(j).ok()) << key << " " << v.dump();
    }
  }
  auto j = Sample().ToJson();
  j["partitions"][0]["number"] = 1ull << 40;
  EXPECT_FALSE(Manifest::FromJson(j).ok());
  j["partitions"][0]["number"] = 5;
  j["partitions"][0]["size"] = UINT64_MAX;
  EXPECT_TRUE(Manifest::FromJson(j).ok());
}

// Regression: the node decoded the boot code with std::stoi, which threw (and ended ka join
// after partitioning) on a manifest whose "mbr" had the right length but no hex digits.
TEST(Manifest, BootCodeMustBeHex) {
  auto j = Sample().ToJson();
  j["mbr"] = std::string(892, 'z');
  EXPECT_FALSE(Manifest::FromJson(j).ok());
  j["mbr"] = "-1" + std::string(890, '0');
  EXPECT_FALSE(Manifest::FromJson(j).ok());
  j["mbr"] = std::string(446, 'A') + std::string(446, '0');
  EXPECT_TRUE(Manifest::FromJson(j).ok());
}

}  // namespace
}  // namespace ka::format
