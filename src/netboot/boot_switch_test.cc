#include "netboot/boot_switch.h"

#include <gtest/gtest.h>

#include "netboot/grub_config.h"
#include "testing/fake_env.h"

namespace ka::netboot {
namespace {

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
  os::FakeEnv env;
  const std::string d = "/srv/tftp";
  BootParams p;
  p.default_choice = BootChoice::kLocal;
  env.AddFile(d + "/pxelinux.cfg/default", RenderPxelinuxConfig(p));
  env.AddFile(d + "/ka/boot.ipxe", RenderIpxeScript(p));

  const std::string mac = "52-54-00-AB-CD-EF";
  EXPECT_EQ(GetNodeBoot(env, d, mac).value(), BootChoice::kLocal) << "no override: the default";
  ASSERT_TRUE(SetNodeBoot(env, d, mac, BootChoice::kKamethod).ok());
  const std::string pxe = d + "/pxelinux.cfg/01-52-54-00-ab-cd-ef";
  const std::string ipxe = d + "/ka/mac-52-54-00-ab-cd-ef.ipxe";
  auto pt = env.ReadFile(pxe);
  ASSERT_TRUE(pt.ok());
  EXPECT_NE(pt->find("\nDEFAULT kamethod\n"), std::string::npos) << *pt;
  EXPECT_NE(pt->find("LABEL rescue"), std::string::npos) << *pt;
  auto it = env.ReadFile(ipxe);
  ASSERT_TRUE(it.ok());
  EXPECT_NE(it->find("\ngoto kamethod\n"), std::string::npos) << *it;
  EXPECT_EQ(GetNodeBoot(env, d, "52:54:00:ab:cd:ef").value(), BootChoice::kKamethod);
  EXPECT_EQ(env.modes[pxe], 0644u) << "dnsmasq's TFTP runs unprivileged";
  EXPECT_EQ(env.modes[ipxe], 0644u);

  ASSERT_TRUE(SetNodeBoot(env, d, mac, BootChoice::kRescue).ok());
  EXPECT_EQ(GetNodeBoot(env, d, mac).value(), BootChoice::kRescue);
  EXPECT_EQ(IpxeChoice(env.ReadFile(ipxe).value()).value(), BootChoice::kRescue);
  // Another machine is unaffected.
  EXPECT_EQ(GetNodeBoot(env, d, "52:54:00:00:00:01").value(), BootChoice::kLocal);

  ASSERT_TRUE(ClearNodeBoot(env, d, mac).ok());
  EXPECT_FALSE(env.FileExists(pxe));
  EXPECT_FALSE(env.FileExists(ipxe));
  EXPECT_EQ(GetNodeBoot(env, d, mac).value(), BootChoice::kLocal);
  EXPECT_TRUE(ClearNodeBoot(env, d, mac).ok()) << "clearing twice is fine";
  env.AddFile(pxe, "x");
  env.unwritable.insert(pxe);
  EXPECT_FALSE(ClearNodeBoot(env, d, mac).ok()) << "a file that stays is an error";
}

TEST(NetbootBootSwitch, SecureBootBuildsGetTheGrubFileToo) {
  os::FakeEnv env;
  const std::string d = "/srv/tftp";
  BootParams p;
  p.default_choice = BootChoice::kKamethod;
  env.AddFile(d + "/pxelinux.cfg/default", RenderPxelinuxConfig(p));
  env.AddFile(d + "/ka/boot.ipxe", RenderIpxeScript(p));
  const std::string mac = "52:54:00:ab:cd:ef";
  const std::string grub = d + "/grub/ka/mac-52-54-00-ab-cd-ef.cfg";

  // Without grub/grub.cfg (an iPXE build) no GRUB file is written.
  ASSERT_TRUE(SetNodeBoot(env, d, mac, BootChoice::kLocal).ok());
  EXPECT_FALSE(env.FileExists(grub));
  ASSERT_TRUE(ClearNodeBoot(env, d, mac).ok());

  env.AddFile(d + "/grub/grub.cfg", RenderGrubConfig(p));
  ASSERT_TRUE(SetNodeBoot(env, d, mac, BootChoice::kLocal).ok());
  auto g = env.ReadFile(grub);
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_NE(g->find("\nset default=local\n"), std::string::npos) << *g;
  EXPECT_EQ(env.modes[grub], 0644u);
  EXPECT_EQ(GetNodeBoot(env, d, mac).value(), BootChoice::kLocal);
  ASSERT_TRUE(SetNodeBoot(env, d, mac, BootChoice::kRescue).ok());
  EXPECT_EQ(GrubMacChoice(env.ReadFile(grub).value()).value(), BootChoice::kRescue);

  // The GRUB file alone (its pxelinux twin gone) still answers GetNodeBoot.
  ASSERT_TRUE(env.RemoveFile(d + "/pxelinux.cfg/01-52-54-00-ab-cd-ef").ok());
  EXPECT_EQ(GetNodeBoot(env, d, mac).value(), BootChoice::kRescue);
  env.AddFile(grub, "set default=windows\n");
  EXPECT_FALSE(GetNodeBoot(env, d, mac).ok()) << "a damaged file is an error, not the default";

  ASSERT_TRUE(ClearNodeBoot(env, d, mac).ok());
  EXPECT_FALSE(env.FileExists(grub));
  EXPECT_EQ(GetNodeBoot(env, d, mac).value(), BootChoice::kKamethod);
}

TEST(NetbootBootSwitch, Errors) {
  os::FakeEnv env;
  env.AddDir("/srv/tftp");
  auto s = SetNodeBoot(env, "/srv/tftp", "52:54:00:ab:cd:ef", BootChoice::kLocal);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("pxelinux.cfg/default"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("--no-run"), std::string::npos) << s.message();
  EXPECT_FALSE(SetNodeBoot(env, "/srv/tftp", "garbage", BootChoice::kLocal).ok());
  EXPECT_FALSE(GetNodeBoot(env, "/srv/tftp", "52:54:00:ab:cd:ef").ok());
  EXPECT_TRUE(env.ListDir("/srv/tftp").value().empty()) << "nothing half written";
}

}  // namespace
}  // namespace ka::netboot
