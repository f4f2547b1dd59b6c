#include "node/target.h"

#include <gtest/gtest.h>

#include <functional>

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
  m.partitions = {{.number = 1,
                   .fs = "ext4",
                   .uuid = "6b610000-0000-4000-8000-0000000000c1",
                   .mount = "/",
                   .method = format::Method::kTree,
                   .size = 600ull << 20,
                   .used = root_used},
                  {.number = 2},
                  {.number = 5, .fs = "swap", .method = format::Method::kSwap, .size = 64ull << 20},
                  {.number = 6,
                   .fs = "xfs",
                   .mount = "/srv",
                   .method = format::Method::kTree,
                   .size = 400ull << 20,
                   .used = 50ull << 20}};
  return m;
}

// Target::Check of `golden` against a 2 GiB /dev/sdb that `setup` (if any) adjusts: refused,
// with a message that names `why`, before anything is written.
void ExpectRefused(const format::Manifest& golden, const std::string& why,
                   const std::function<void(os::FakeEnv&)>& setup = nullptr) {
  os::FakeEnv env;
  env.AddDisk("/dev/sdb", 2ull << 30);
  if (setup) setup(env);
  Target t(env);
  Status s = t.Check(golden, "/dev/sdb");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(why), std::string::npos) << s.ToString();
  EXPECT_FALSE(env.wrote_anything());
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
  ExpectRefused(Golden(/*root_used=*/700ull << 20), "holds");
}

TEST(NodeTarget, DiskInUseIsRefused) {
  ExpectRefused(Golden(), "in use", [](os::FakeEnv& env) { env.users = {"/dev/sdb1 is mounted on /mnt"}; });
}

TEST(NodeTarget, UnknownFilesystemToolIsRefusedBeforeWriting) {
  ExpectRefused(Golden(), "xfsprogs", [](os::FakeEnv& env) { env.missing_tools.insert("mkfs.xfs"); });
}

TEST(NodeTarget, BadDescIsRefused) {
  format::Manifest m = Golden();
  m.desc = "linux banana\n";
  ExpectRefused(m, "the golden's layout: desc line 1");
}

}  // namespace
}  // namespace ka::node
