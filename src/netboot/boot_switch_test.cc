#include "netboot/boot_switch.h"

#include <sys/stat.h>

#include <filesystem>

#include <gtest/gtest.h>

namespace ka::netboot {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string t = (fs::temp_directory_path() / "ka-boot-switch-XXXXXX").string();
    path_ = ::mkdtemp(t.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(NetbootBootSwitch, ParseMacAccepts) {
  EXPECT_EQ(ParseMac("52:54:00:12:34:56").value(), "52:54:00:12:34:56");
  EXPECT_EQ(ParseMac("52:54:00:AB:cd:EF").value(), "52:54:00:ab:cd:ef");
  EXPECT_EQ(ParseMac("52-54-00-AB-CD-EF").value(), "52:54:00:ab:cd:ef");
  EXPECT_EQ(ParseMac("01-52-54-00-ab-cd-ef").value(), "52:54:00:ab:cd:ef");
}

TEST(NetbootBootSwitch, ParseMacRejects) {
  for (const char* bad : {"", "52:54:00:12:34", "52:54:00:12:34:56:78", "52:54:00-12:34:56", "5254.0012.3456",
                          "52:54:00:12:34:5g", "02-52-54-00-ab-cd-ef", "01:52:54:00:ab:cd:ef", " 52:54:00:12:34:56",
                          "525:4:00:12:34:56"}) {
    auto r = ParseMac(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("aa:bb:cc:dd:ee:ff"), std::string::npos);
    }
  }
}

TEST(NetbootBootSwitch, FileNames) {
  EXPECT_EQ(PxelinuxMacFile("52:54:00:ab:cd:ef"), "pxelinux.cfg/01-52-54-00-ab-cd-ef");
  EXPECT_EQ(IpxeMacFile("52:54:00:ab:cd:ef"), "ka/mac-52-54-00-ab-cd-ef.ipxe");
}

TEST(NetbootBootSwitch, SetGetClear) {
  TempDir d;
  fs::create_directories(d.path() + "/pxelinux.cfg");
  fs::create_directories(d.path() + "/ka");
  BootParams p;
  p.default_choice = BootChoice::kLocal;
  ASSERT_TRUE(WriteFileAtomic(d.path() + "/pxelinux.cfg/default", RenderPxelinuxConfig(p)).ok());
  ASSERT_TRUE(WriteFileAtomic(d.path() + "/ka/boot.ipxe", RenderIpxeScript(p)).ok());

  const std::string mac = "52-54-00-AB-CD-EF";
  EXPECT_EQ(GetNodeBoot(d.path(), mac).value(), BootChoice::kLocal) << "no override: the default";
  ASSERT_TRUE(SetNodeBoot(d.path(), mac, BootChoice::kKamethod).ok());
  const std::string pxe = d.path() + "/pxelinux.cfg/01-52-54-00-ab-cd-ef";
  const std::string ipxe = d.path() + "/ka/mac-52-54-00-ab-cd-ef.ipxe";
  auto pt = ReadWholeFile(pxe);
  ASSERT_TRUE(pt.ok());
  EXPECT_NE(pt->find("\nDEFAULT kamethod\n"), std::string::npos) << *pt;
  EXPECT_NE(pt->find("LABEL rescue"), std::string::npos) << *pt;
  auto it = ReadWholeFile(ipxe);
  ASSERT_TRUE(it.ok());
  EXPECT_NE(it->find("\ngoto kamethod\n"), std::string::npos) << *it;
  EXPECT_EQ(GetNodeBoot(d.path(), "52:54:00:ab:cd:ef").value(), BootChoice::kKamethod);
  struct stat st {};
  ASSERT_EQ(::stat(pxe.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u) << "dnsmasq's TFTP runs unprivileged";
  EXPECT_FALSE(fs::exists(pxe + ".tmp"));

  ASSERT_TRUE(SetNodeBoot(d.path(), mac, BootChoice::kRescue).ok());
  EXPECT_EQ(GetNodeBoot(d.path(), mac).value(), BootChoice::kRescue);
  EXPECT_EQ(IpxeChoice(ReadWholeFile(ipxe).value()).value(), BootChoice::kRescue);
  // Another machine is unaffected.
  EXPECT_EQ(GetNodeBoot(d.path(), "52:54:00:00:00:01").value(), BootChoice::kLocal);

  ASSERT_TRUE(ClearNodeBoot(d.path(), mac).ok());
  EXPECT_FALSE(fs::exists(pxe));
  EXPECT_FALSE(fs::exists(ipxe));
  EXPECT_EQ(GetNodeBoot(d.path(), mac).value(), BootChoice::kLocal);
  EXPECT_TRUE(ClearNodeBoot(d.path(), mac).ok()) << "clearing twice is fine";
}

TEST(NetbootBootSwitch, Errors) {
  TempDir d;
  auto s = SetNodeBoot(d.path(), "52:54:00:ab:cd:ef", BootChoice::kLocal);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("pxelinux.cfg/default"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("--no-run"), std::string::npos) << s.message();
  EXPECT_FALSE(SetNodeBoot(d.path(), "garbage", BootChoice::kLocal).ok());
  EXPECT_FALSE(GetNodeBoot(d.path(), "52:54:00:ab:cd:ef").ok());
}

}  // namespace
}  // namespace ka::netboot
