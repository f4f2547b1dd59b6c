// Unit tests for the stage1 scripts (stage1_init.h): valid sh syntax (`sh -n`)
// and the lines that matter present.
#include "netboot/stage1_init.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace ka::netboot {
namespace {

int ShellSyntaxCheck(const std::string& text) {
  char tmpl[] = "/tmp/ka-netboot-sh.XXXXXX";
  int fd = ::mkstemp(tmpl);
  if (fd < 0) return -1;
  ::close(fd);
  { std::ofstream(tmpl) << text; }
  int rc = std::system(("/bin/sh -n " + std::string(tmpl)).c_str());
  ::unlink(tmpl);
  return rc;
}

TEST(Stage1Init, InitIsValidShellWithTheKeySteps) {
  std::string s = Stage1InitScript("6.1.0-99-amd64");
  EXPECT_EQ(ShellSyntaxCheck(s), 0);
  EXPECT_EQ(s.rfind("#!/bin/sh\n", 0), 0u);
  for (const char* line : {"echo \"ka stage1 (kernel 6.1.0-99-amd64)\"", "mount -t devtmpfs devtmpfs /dev",
                           "export PATH=/usr/sbin:/usr/bin:/sbin:/bin", "modprobe -q crc32c_generic",
                           "for m in ext4 xfs btrfs vfat", "udhcpc -i \"$iface\" -n -q -t 5 -T 2 -s /etc/udhcpc.script",
                           "/usr/bin/ka netboot stage1\n", "setsid cttyhack sh", "if [ -d /sys/firmware/efi ]; then",
                           "mount -t efivarfs efivarfs /sys/firmware/efi/efivars"})
    EXPECT_NE(s.find(line), std::string::npos) << line;
  // efivarfs is mounted after its module is loaded.
  EXPECT_LT(s.find(" loop efivarfs; do"), s.find("mount -t efivarfs"));
  EXPECT_EQ(s.find("exec /usr/bin/ka"), std::string::npos);
  EXPECT_EQ(s.find("@KERNEL_VERSION@"), std::string::npos);
}

TEST(Stage1Init, UdhcpcScriptIsValidShell) {
  std::string s = UdhcpcScript();
  EXPECT_EQ(ShellSyntaxCheck(s), 0);
  EXPECT_NE(s.find("ip addr add \"$ip/${mask:-24}\""), std::string::npos);
  EXPECT_NE(s.find("ip route replace default via"), std::string::npos);
  EXPECT_NE(s.find("/etc/resolv.conf"), std::string::npos);
}

}  // namespace
}  // namespace ka::netboot
