// Unit tests for the stage1 module selection (module_set.h) on a fake modules.dep.
#include "netboot/module_set.h"

#include <gtest/gtest.h>

namespace ka::netboot {
namespace {

const char kDep[] =
    "kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko\n"
    "kernel/lib/crc16.ko:\n"
    "kernel/fs/mbcache.ko:\n"
    "kernel/fs/jbd2/jbd2.ko:\n"
    "kernel/arch/x86/crypto/crc32c-intel.ko:\n"
    "kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko\n"
    "kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko\n"
    "kernel/net/core/failover.ko:\n";

TEST(ModuleSet, NamesOfPaths) {
  EXPECT_EQ(ModuleNameOfPath("kernel/arch/x86/crypto/crc32c-intel.ko"), "crc32c_intel");
  EXPECT_EQ(ModuleNameOfPath("kernel/fs/ext4/ext4.ko.xz"), "ext4");
  EXPECT_EQ(ModuleNameOfPath("loop.ko"), "loop");
}

TEST(ModuleSet, ClosureSortedWithBuiltinAndMissing) {
  auto dep = ModulesDep::Parse(kDep);
  ASSERT_TRUE(dep.ok()) << dep.status().message();
  EXPECT_EQ(dep->size(), 8u);
  auto builtin = ParseModulesBuiltin("kernel/net/packet/af_packet.ko\n");
  auto sel = SelectModules(*dep, {"virtio-net", "ext4", "crc32c_intel", "af_packet", "nosuch", "ext4"}, builtin);
  ASSERT_TRUE(sel.ok()) << sel.status().message();
  EXPECT_EQ(sel->paths, (std::vector<std::string>{
                            "kernel/arch/x86/crypto/crc32c-intel.ko", "kernel/drivers/net/net_failover.ko",
                            "kernel/drivers/net/virtio_net.ko", "kernel/fs/ext4/ext4.ko", "kernel/fs/jbd2/jbd2.ko",
                            "kernel/fs/mbcache.ko", "kernel/lib/crc16.ko", "kernel/net/core/failover.ko"}));
  EXPECT_EQ(sel->names, (std::vector<std::string>{"crc16", "crc32c_intel", "ext4", "failover", "jbd2", "mbcache",
                                                  "net_failover", "virtio_net"}));
  EXPECT_EQ(sel->builtin, std::vector<std::string>{"af_packet"});
  EXPECT_EQ(sel->missing, std::vector<std::string>{"nosuch"});
}

TEST(ModuleSet, DependencyWithoutLineIsAnError) {
  auto dep = ModulesDep::Parse("kernel/a.ko: kernel/b.ko\n");
  ASSERT_TRUE(dep.ok());
  auto sel = SelectModules(*dep, {"a"}, {});
  ASSERT_FALSE(sel.ok());
  EXPECT_NE(sel.status().message().find("kernel/b.ko"), std::string::npos);
}

TEST(ModuleSet, MalformedLineIsAnError) {
  EXPECT_FALSE(ModulesDep::Parse("no colon here\n").ok());
}

}  // namespace
}  // namespace ka::netboot
