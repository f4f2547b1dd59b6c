#include "netboot/grub_config.h"

#include <gtest/gtest.h>

namespace ka::netboot {
namespace {

bool HasLine(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(GrubConfig, DefaultMenu) {
  BootParams p;
  p.server = "10.0.0.1:30765";
  const std::string c = RenderGrubConfig(p);
  const std::string args = "console=tty0 console=ttyS0,115200n8 ka.server=10.0.0.1:30765 ka.session=ka ka.tries=5 ";
  for (const std::string& line :
       {std::string("set default=kamethod"), std::string("set timeout=3"), std::string("set fallback=0"),
        std::string("set ka_mac=\"$m1-$m2-$m3-$m4-$m5-$m6\""),
        std::string("if [ -s \"$prefix/ka/mac-$ka_mac.cfg\" ]; then source \"$prefix/ka/mac-$ka_mac.cfg\"; fi"),
        std::string("menuentry 'local' --id local {"),
        std::string("    if search --no-floppy --file --set=ka_root $ka_cfg; then"),
        std::string("      configfile $ka_cfg"),
        std::string("  if search --no-floppy --file --set=ka_esp /EFI/BOOT/BOOTX64.EFI; then"),
        std::string("    chainloader ($ka_esp)/EFI/BOOT/BOOTX64.EFI"), std::string("  exit"),
        std::string("menuentry 'kamethod' --id kamethod {"), std::string("menuentry 'rescue' --id rescue {"),
        "  linux /ka/vmlinuz " + args + "ka.fail=reboot ka.then=reboot BOOTIF=01-$ka_mac",
        "  linux /ka/vmlinuz " + args + "ka.fail=shell ka.then=reboot ka.rescue=1 BOOTIF=01-$ka_mac",
        std::string("  initrd /ka/stage1.img")}) {
    EXPECT_TRUE(HasLine(c, line)) << "no line \"" << line << "\" in:\n" << c;
  }
  EXPECT_NE(c.find("\"$net_default_mac\""), std::string::npos);
  // Entry 0 (the fallback) is local.
  EXPECT_LT(c.find("menuentry 'local'"), c.find("menuentry 'kamethod'"));
  // The per-MAC choice is read before the menu's default is used.
  EXPECT_LT(c.find("set default=kamethod"), c.find("source \"$prefix/ka/mac-"));
}

TEST(GrubConfig, SecretDefaultChoiceAndTimeout) {
  BootParams p;
  p.secret = true;
  p.default_choice = BootChoice::kLocal;
  p.timeout_ds = 0;
  const std::string c = RenderGrubConfig(p);
  EXPECT_TRUE(HasLine(c, "set default=local")) << c;
  EXPECT_TRUE(HasLine(c, "set timeout=0")) << c;
  EXPECT_TRUE(HasLine(c, "  initrd /ka/stage1.img /ka/secret.img")) << c;
  p.timeout_ds = 11;
  EXPECT_TRUE(HasLine(RenderGrubConfig(p), "set timeout=2"));
}

TEST(GrubConfig, ExtraArgumentsAreQuotedForGrub) {
  EXPECT_EQ(GrubWord("ka.trust=ka-ed25519:AAAA+/x=="), "ka.trust=ka-ed25519:AAAA+/x==");
  EXPECT_EQ(GrubWord("a$b"), "'a$b'");
  EXPECT_EQ(GrubWord("it's"), "'it'\\''s'");
  EXPECT_EQ(GrubWord("x;reboot"), "'x;reboot'");
  BootParams p;
  p.extra_args = "quiet foo=${bar} x;y";
  const std::string c = RenderGrubConfig(p);
  EXPECT_NE(c.find(" quiet 'foo=${bar}' 'x;y' BOOTIF=01-$ka_mac\n"), std::string::npos) << c;
}

TEST(GrubConfig, PerMacFile) {
  EXPECT_EQ(GrubMacFile("52:54:00:ab:cd:ef"), "grub/ka/mac-52-54-00-ab-cd-ef.cfg");
  for (BootChoice c : {BootChoice::kLocal, BootChoice::kKamethod, BootChoice::kRescue}) {
    const std::string text = RenderGrubMacConfig(c);
    EXPECT_TRUE(HasLine(text, std::string("set default=") + BootChoiceName(c))) << text;
    auto back = GrubMacChoice(text);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(*back, c);
  }
  EXPECT_FALSE(GrubMacChoice("").ok());
  EXPECT_FALSE(GrubMacChoice("set default=windows\n").ok());
  EXPECT_FALSE(GrubMacChoice("set timeout=3\n").ok());
  EXPECT_FALSE(GrubMacChoice(std::string(5000, '#') + "\nset default=local\n").ok());
}

}  // namespace
}  // namespace ka::netboot
