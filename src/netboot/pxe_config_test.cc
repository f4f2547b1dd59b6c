#include "netboot/pxe_config.h"

#include <gtest/gtest.h>

#include "crypto/key_file.h"
#include "netboot/stage1_params.h"

namespace ka::netboot {
namespace {

bool HasLine(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

// Every one of `lines` is a whole line of `text`.
void ExpectLines(const std::string& text, const std::vector<std::string>& lines) {
  for (const auto& line : lines) EXPECT_TRUE(HasLine(text, line)) << "no line \"" << line << "\" in:\n" << text;
}

TEST(PxeConfig, PxelinuxDefaultMenu) {
  BootParams p;
  p.server = "10.0.0.1:30765";
  const std::string c = RenderPxelinuxConfig(p);
  const std::string append =
      "  APPEND initrd=ka/stage1.img console=tty0 console=ttyS0,115200n8 ka.server=10.0.0.1:30765 ka.session=ka "
      "ka.tries=5 ";
  ExpectLines(c, {"DEFAULT kamethod", "PROMPT 0", "TIMEOUT 30", "LABEL local", "  LOCALBOOT 0", "LABEL kamethod",
                  "LABEL rescue", "  KERNEL ka/vmlinuz", "  IPAPPEND 2", append + "ka.fail=reboot ka.then=reboot",
                  append + "ka.fail=shell ka.then=reboot ka.rescue=1"});
}

TEST(PxeConfig, OptionsReachTheKernelLine) {
  BootParams p;
  p.session = "lab";
  p.fail = "poweroff";
  p.then = "exit";
  p.disk = "/dev/vda";
  p.extra_args = "quiet";
  p.secret = true;
  p.default_choice = BootChoice::kLocal;
  const std::string c = RenderPxelinuxConfig(p);
  EXPECT_TRUE(HasLine(c, "DEFAULT local")) << c;
  EXPECT_EQ(c.find("ka.server="), std::string::npos) << "no --server: stage1 discovers by broadcast";
  EXPECT_TRUE(HasLine(c,
                      "  APPEND initrd=ka/stage1.img,ka/secret.img console=tty0 console=ttyS0,115200n8 "
                      "ka.session=lab ka.tries=5 ka.fail=poweroff ka.then=exit ka.disk=/dev/vda quiet"))
      << c;
}

TEST(PxeConfig, KeysReachBothStage1Entries) {
  BootParams p;
  p.trust_key = crypto::FormatPublicKey(crypto::NewSigningKey().pub);
  p.operator_key = crypto::FormatPublicKey(crypto::NewSigningKey().pub);
  ASSERT_TRUE(ValidateBootParams(p).ok());
  const std::string keys = " ka.trust=" + p.trust_key + " ka.operator=" + p.operator_key;
  EXPECT_EQ(KernelArgs(p, BootChoice::kKamethod),
            "console=tty0 console=ttyS0,115200n8 ka.session=ka ka.tries=5 ka.fail=reboot ka.then=reboot" + keys);
  EXPECT_EQ(KernelArgs(p, BootChoice::kRescue),
            "console=tty0 console=ttyS0,115200n8 ka.session=ka ka.tries=5 ka.fail=shell ka.then=reboot" + keys +
                " ka.rescue=1");
  const std::string pxe = RenderPxelinuxConfig(p);
  const std::string ipxe = RenderIpxeScript(p);
  for (const std::string* menu : {&pxe, &ipxe}) {
    size_t n = 0;
    for (size_t at = menu->find(keys); at != std::string::npos; at = menu->find(keys, at + 1)) ++n;
    EXPECT_EQ(n, 2u) << *menu;  // kamethod and rescue
  }
  // What stage1 reads back from such a command line.
  auto parsed = ParseStage1Params(KernelArgs(p, BootChoice::kKamethod));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->trust, p.trust_key);
  EXPECT_EQ(parsed->operator_key, p.operator_key);
}

TEST(PxeConfig, PxelinuxDefaultSwitch) {
  BootParams p;
  const std::string c = RenderPxelinuxConfig(p);
  auto local = WithPxelinuxDefault(c, BootChoice::kLocal);
  ASSERT_TRUE(local.ok());
  EXPECT_TRUE(HasLine(*local, "DEFAULT local"));
  EXPECT_FALSE(HasLine(*local, "DEFAULT kamethod"));
  EXPECT_TRUE(HasLine(*local, "LABEL kamethod")) << "the labels stay";
  EXPECT_EQ(PxelinuxDefault(*local).value(), BootChoice::kLocal);
  EXPECT_EQ(PxelinuxDefault(c).value(), BootChoice::kKamethod);
  EXPECT_FALSE(WithPxelinuxDefault("LABEL x\n", BootChoice::kLocal).ok());
  EXPECT_FALSE(PxelinuxDefault("LABEL x\n").ok());
}

TEST(PxeConfig, IpxeScript) {
  BootParams p;
  p.server = "10.0.0.1:30765";
  p.secret = true;
  const std::string s = RenderIpxeScript(p);
  EXPECT_EQ(s.rfind("#!ipxe\n", 0), 0u) << s;
  const std::string kernel =
      "kernel vmlinuz initrd=stage1.img initrd=secret.img console=tty0 console=ttyS0,115200n8 "
      "ka.server=10.0.0.1:30765 ka.session=ka ka.tries=5 ka.fail=reboot ka.then=reboot "
      "BOOTIF=01-${netX/mac:hexhyp} || goto failed";
  ExpectLines(
      s, {"chain --replace mac-${netX/mac:hexhyp}.ipxe || goto kamethod", ":local", "exit 1", ":kamethod", ":rescue",
          kernel, "initrd stage1.img || goto failed", "initrd secret.img || goto failed", "boot || goto failed"});
  EXPECT_EQ(IpxeChoice(s).value(), BootChoice::kKamethod);

  auto rescue = WithIpxeChoice(s, BootChoice::kRescue);
  ASSERT_TRUE(rescue.ok());
  EXPECT_TRUE(HasLine(*rescue, "goto rescue")) << *rescue;
  EXPECT_EQ(rescue->find("chain "), std::string::npos) << "a per-MAC script must not chain itself";
  EXPECT_EQ(IpxeChoice(*rescue).value(), BootChoice::kRescue);
  EXPECT_FALSE(WithIpxeChoice("#!ipxe\nboot\n", BootChoice::kLocal).ok());
}

TEST(PxeConfig, NormalizeServer) {
  EXPECT_EQ(NormalizeServer("10.0.0.1").value(), "10.0.0.1:30765");
  EXPECT_EQ(NormalizeServer("10.0.0.1:4000").value(), "10.0.0.1:4000");
  EXPECT_FALSE(NormalizeServer("golden.example").ok());
  EXPECT_FALSE(NormalizeServer("10.0.0.1:").ok());
  EXPECT_FALSE(NormalizeServer("10.0.0.1:70000").ok());
  EXPECT_FALSE(NormalizeServer("10.0.0.1:x").ok());
}

TEST(PxeConfig, Validation) {
  BootParams p;
  EXPECT_TRUE(ValidateBootParams(p).ok());
  auto bad = [](auto change) {
    BootParams q;
    change(q);
    return !ValidateBootParams(q).ok();
  };
  EXPECT_TRUE(bad([](BootParams& q) { q.session = "a b"; }));
  EXPECT_TRUE(bad([](BootParams& q) { q.session = ""; }));
  EXPECT_TRUE(bad([](BootParams& q) { q.fail = "explode"; }));
  EXPECT_TRUE(bad([](BootParams& q) { q.then = "shell"; }));
  EXPECT_TRUE(bad([](BootParams& q) { q.tries = 0; }));
  EXPECT_TRUE(bad([](BootParams& q) { q.disk = "/dev/sda /dev/sdb"; }));
  EXPECT_TRUE(bad([](BootParams& q) { q.extra_args = "a\nb"; }));
  EXPECT_TRUE(bad([](BootParams& q) { q.trust_key = "ka-ed25519:short"; }));
  EXPECT_TRUE(bad([](BootParams& q) { q.operator_key = "not a key"; }));
  EXPECT_TRUE(bad([](BootParams& q) { q.trust_key = " " + crypto::FormatPublicKey(crypto::NewSigningKey().pub); }));
  EXPECT_EQ(ParseBootChoice("rescue").value(), BootChoice::kRescue);
  EXPECT_FALSE(ParseBootChoice("disk").ok());
}

}  // namespace
}  // namespace ka::netboot
