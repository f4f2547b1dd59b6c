#include "golden/manifest.h"

#include <gtest/gtest.h>

namespace ka::golden {
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

}  // namespace
}  // namespace ka::golden
