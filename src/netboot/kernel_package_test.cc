// Unit tests for finding Debian's kernel package (kernel_package.h) with an os::FakeEnv.
#include "netboot/kernel_package.h"

#include <gtest/gtest.h>

#include "node/temp_tree_for_test.h"
#include "testing/fake_env.h"

namespace ka::netboot {
namespace {

TEST(KernelPackage, ParsesTheDependency) {
  auto p = ParseKernelDependency("linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, "linux-image-6.1.0-56-amd64");
  EXPECT_FALSE(ParseKernelDependency("linux-image-amd64\n").ok());
}

TEST(KernelPackage, ReusesACachedDebWithoutDownloading) {
  node::TempTree cache;
  cache.Write("linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb", "x");
  os::FakeEnv runner;
  runner.tool_paths["apt-cache"] = "/usr/bin/apt-cache";
  runner.Script({"/usr/bin/apt-cache", "depends"}, {0, "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n", ""});
  auto deb = FindKernelDeb(runner, "", cache.path());
  ASSERT_TRUE(deb.ok()) << deb.status().message();
  EXPECT_EQ(*deb, cache / "linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb");
  EXPECT_EQ(runner.runs.size(), 1u);  // no apt-get download
}

TEST(KernelPackage, FailedDownloadNamesTheOfflineOption) {
  node::TempTree cache;
  os::FakeEnv runner;
  runner.Script({"/usr/sbin/apt-cache", "depends"}, {0, "  Depends: linux-image-6.1.0-56-amd64\n", ""});
  runner.Script({"/bin/sh"}, {100, "", "E: Failed to fetch"});
  auto deb = FindKernelDeb(runner, "", cache.path());
  ASSERT_FALSE(deb.ok());
  EXPECT_NE(deb.status().message().find("apt-get download linux-image-6.1.0-56-amd64"), std::string::npos);
  EXPECT_NE(deb.status().message().find("--kernel-deb"), std::string::npos);
}

}  // namespace
}  // namespace ka::netboot
