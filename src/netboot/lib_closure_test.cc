// Unit tests for the library closure (lib_closure.h): ldd output parsing, ELF
// detection and the closure of the real /bin/ls and the static busybox.
#include "netboot/lib_closure.h"
#include "os/real_env.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace ka::netboot {
namespace {

TEST(LibClosure, ParsesLddOutput) {
  auto libs = ParseLddOutput("/bin/x",
                             "\tlinux-vdso.so.1 (0x00007ffd)\n"
                             "\tlibselinux.so.1 => /lib/x86_64-linux-gnu/libselinux.so.1 (0x00007f)\n"
                             "\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n");
  ASSERT_TRUE(libs.ok());
  EXPECT_EQ(*libs, (std::vector<std::string>{"/lib/x86_64-linux-gnu/libselinux.so.1", "/lib64/ld-linux-x86-64.so.2"}));
}

TEST(LibClosure, MissingLibraryIsAnError) {
  auto libs = ParseLddOutput("/bin/x", "\tlibfoo.so.1 => not found\n");
  ASSERT_FALSE(libs.ok());
  EXPECT_NE(libs.status().message().find("libfoo.so.1"), std::string::npos);
}

TEST(LibClosure, UsrPath) {
  EXPECT_EQ(UsrPath("/lib/x86_64-linux-gnu/libc.so.6"), "/usr/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(UsrPath("/lib64/ld-linux-x86-64.so.2"), "/usr/lib64/ld-linux-x86-64.so.2");
  EXPECT_EQ(UsrPath("/usr/bin/ka"), "/usr/bin/ka");
}

TEST(LibClosure, RealLsNeedsLibcAndTheLoader) {
  os::RealEnv runner;
  auto libs = LibraryClosure(runner, {"/bin/ls"});
  ASSERT_TRUE(libs.ok()) << libs.status().message();
  bool libc = false, loader = false;
  for (const auto& l : *libs) {
    libc |= l.find("/libc.so.6") != std::string::npos;
    loader |= l.find("ld-linux-x86-64.so.2") != std::string::npos;
  }
  EXPECT_TRUE(libc);
  EXPECT_TRUE(loader);
}

TEST(LibClosure, StaticBinaryAndScriptNeedNothing) {
  if (::access("/bin/busybox", R_OK) == 0) {
    auto d = IsDynamicElf("/bin/busybox");
    ASSERT_TRUE(d.ok());
    EXPECT_FALSE(*d);
  }
  auto d = IsDynamicElf("/bin/ldd");  // a shell script
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(*d);
}

}  // namespace
}  // namespace ka::netboot
