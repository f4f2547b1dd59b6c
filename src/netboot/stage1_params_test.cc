#include "netboot/stage1_params.h"

#include <gtest/gtest.h>

#include "crypto/key_file.h"

namespace ka::netboot {
namespace {

TEST(Stage1Params, DefaultsWithoutKaWords) {
  auto p = ParseStage1Params("console=ttyS0 quiet initrd=ka/stage1.img\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->server, "");
  EXPECT_EQ(p->session, "ka");
  EXPECT_EQ(p->tries, 5);
  EXPECT_EQ(p->delay, 10);
  EXPECT_EQ(p->fail, "reboot");
  EXPECT_EQ(p->then, "reboot");
  EXPECT_EQ(p->disk, "auto");
  EXPECT_FALSE(p->rescue);
  EXPECT_EQ(p->boot_mac, "");
  EXPECT_EQ(p->trust, "");
  EXPECT_EQ(p->operator_key, "");
}

TEST(Stage1Params, ReadsEveryKaWordAndBootif) {
  auto p = ParseStage1Params(
      "console=ttyS0 ka.server=10.0.0.1:4000 ka.session=lab ka.tries=3 ka.delay=0 ka.fail=poweroff "
      "ka.then=exit ka.disk=/dev/nvme0n1 BOOTIF=01-52-54-00-AB-cd-01");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->server, "10.0.0.1:4000");
  EXPECT_EQ(p->session, "lab");
  EXPECT_EQ(p->tries, 3);
  EXPECT_EQ(p->delay, 0);
  EXPECT_EQ(p->fail, "poweroff");
  EXPECT_EQ(p->then, "exit");
  EXPECT_EQ(p->disk, "/dev/nvme0n1");
  EXPECT_EQ(p->boot_mac, "52:54:00:ab:cd:01");
}

TEST(Stage1Params, RescueWord) {
  EXPECT_TRUE(ParseStage1Params("ka.rescue=1")->rescue);
  EXPECT_TRUE(ParseStage1Params("ka.rescue")->rescue);
  EXPECT_FALSE(ParseStage1Params("ka.rescue=0")->rescue);
}

TEST(Stage1Params, BadValuesNameTheParameter) {
  struct Case {
    const char* cmdline;
    const char* says;
  } cases[] = {
      {"ka.tries=0", "ka.tries=0"},         {"ka.tries=abc", "ka.tries=abc"},
      {"ka.fail=halt", "reboot, poweroff or shell"},
      {"ka.then=shell", "reboot, poweroff or exit"},
      {"ka.disk=sda", "/dev/ path"},        {"ka.server=", "ka.server"},
      {"BOOTIF=01-52-54", "BOOTIF"},       {"BOOTIF=01-zz-54-00-ab-cd-01", "BOOTIF"},
  };
  for (const auto& c : cases) {
    auto p = ParseStage1Params(c.cmdline);
    ASSERT_FALSE(p.ok()) << c.cmdline;
    EXPECT_NE(p.status().message().find(c.says), std::string::npos) << c.cmdline << ": " << p.status().message();
  }
}

TEST(Stage1Params, TrustAndOperatorKeys) {
  const std::string golden = crypto::FormatPublicKey(crypto::NewSigningKey().pub);
  const std::string op = crypto::FormatPublicKey(crypto::NewSigningKey().pub);
  auto p = ParseStage1Params("console=ttyS0 ka.trust=" + golden + " ka.operator=" + op + " ka.session=lab\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->trust, golden);
  EXPECT_EQ(p->operator_key, op);
  EXPECT_EQ(p->session, "lab");
}

TEST(Stage1Params, BadKeysNameTheParameter) {
  const std::string good = crypto::FormatPublicKey(crypto::NewSigningKey().pub);
  const std::string secret = crypto::FormatSigningKey(crypto::NewSigningKey());
  struct Case {
    std::string cmdline, says;
  } cases[] = {
      {"ka.trust=", "ka.trust="},
      {"ka.trust", "ka.trust="},
      {"ka.trust=" + good.substr(0, 30), "ka.trust="},
      {"ka.trust=ssh-ed25519:AAAA", "ka.trust="},
      {"ka.operator=" + good + "x", "ka.operator="},
      {"ka.operator=" + secret, "secret key"},
  };
  for (const auto& c : cases) {
    auto p = ParseStage1Params(c.cmdline);
    ASSERT_FALSE(p.ok()) << c.cmdline;
    EXPECT_NE(p.status().message().find(c.says), std::string::npos) << c.cmdline << ": " << p.status().message();
  }
}

}  // namespace
}  // namespace ka::netboot
