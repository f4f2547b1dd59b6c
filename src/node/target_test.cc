#include "node/target.h"

#include <gtest/gtest.h>

#include "testing/fake_env.h"

namespace ka::node {
namespace {

// A golden with / (ext4, 600 MiB, 300 MiB used), swap and /srv (xfs 400 MiB).
format::Manifest Golden(uint64_t root_used = 300ull << 20) {
  format::Manifest m;
  m.desc =
      "label mbr\n"
      "linux 600 boot fs=ext4 uuid=6b610000-0000-4000-8000-0000000000c1 label=karoot mount=/\n"
      "extended fill\n"
      "logical swap 64 fs=swap uuid=6b610000-0000-4000-8000-0000000000c5\n"
      "logical linux 400 fs=xfs uuid=6b610000-0000-4000-8000-0000000000c6 label=kasrv mount=/srv\n";
  auto part = [](int n, const char* fs, format::Method method, uint64_t size, uint64_t used, const char* mount) {
    format::ManifestPartition p;
    p.number = n;
    p.fs = fs;
    p.method = method;
    p.size = size;
    p.used = used;
    p.mount = mount;
    return p;
  };
  m.partitions = {part(1, "ext4", format::Method::kTree, 600ull << 20, root_used, "/"),
                  part(2, "", format::Method::kNone, 0, 0, ""),
                  part(5, "swap", format::Method::kSwap, 64ull << 20, 0, ""),
                  part(6, "xfs", format::Method::kTree, 400ull << 20, 50ull << 20, "/srv")};
  m.partitions[0].uuid = "6b610000-0000-4000-8000-0000000000c1";
  return m;
}


TEST(NodeTarget, FitsAndChecksWithoutWriting) {
  os::FakeEnv env;
  env.AddDisk("/dev/sdb", 2ull << 30);
  Target t(env);
  ASSERT_TRUE(t.Check(Golden(), "/dev/sdb").ok());
  EXPECT_FALSE(env.wrote_anything());
  EXPECT_TRUE(env.runs.empty() || env.argvs()[0][0].find("mkfs") == std::string::npos);
}

TEST(NodeTarget, TooSmallDiskIsRefusedUntouched) {
  os::FakeEnv env;
  env.AddDisk("/dev/sdb", 700ull << 20);
  Target t(env);
  Status s = t.Check(Golden(), "/dev/sdb");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("does not fit"), std::string::npos) << s.ToString();
  EXPECT_FALSE(env.wrote_anything());
  EXPECT_FALSE(t.touched());
  EXPECT_TRUE(t.MarkNotCloned().ok());  // nothing to undo
  EXPECT_FALSE(env.wrote_anything());
}

TEST(NodeTarget, PartitionSmallerThanTheGoldensDataIsRefused) {
  os::FakeEnv env;
  env.AddDisk("/dev/sdb", 2ull << 30);
  Target t(env);
  Status s = t.Check(Golden(/*root_used=*/700ull << 20), "/dev/sdb");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("holds"), std::string::npos) << s.ToString();
  EXPECT_FALSE(env.wrote_anything());
}

TEST(NodeTarget, DiskInUseIsRefused) {
  os::FakeEnv env;
  env.AddDisk("/dev/sdb", 2ull << 30);
  env.users = {"/dev/sdb1 is mounted on /mnt"};
  Target t(env);
  Status s = t.Check(Golden(), "/dev/sdb");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("in use"), std::string::npos) << s.ToString();
  EXPECT_FALSE(env.wrote_anything());
}

TEST(NodeTarget, UnknownFilesystemToolIsRefusedBeforeWriting) {
  os::FakeEnv env;
  env.AddDisk("/dev/sdb", 2ull << 30);
  env.missing_tools.insert("mkfs.xfs");
  Target t(env);
  Status s = t.Check(Golden(), "/dev/sdb");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("xfsprogs"), std::string::npos) << s.ToString();
  EXPECT_FALSE(env.wrote_anything());
}

TEST(NodeTarget, BadDescIsRefused) {
  os::FakeEnv env;
  env.AddDisk("/dev/sdb", 2ull << 30);
  Target t(env);
  format::Manifest m = Golden();
  m.desc = "linux banana\n";
  EXPECT_FALSE(t.Check(m, "/dev/sdb").ok());
  EXPECT_FALSE(env.wrote_anything());
}

}  // namespace
}  // namespace ka::node
