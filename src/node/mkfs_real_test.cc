// MakeFilesystem with the real tools on sparse image files, checked with blkid -p.
// Needs root (as on a node); skipped otherwise or when a tool is missing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <map>

#include "node/mkfs.h"
#include "node/temp_tree_for_test.h"
#include "os/real_env.h"
#include "os/run_tool.h"

namespace ka::node {
namespace {

std::map<std::string, std::string> Blkid(const std::string& image) {
  std::map<std::string, std::string> v;
  auto blkid = os::FindTool("blkid", "util-linux");
  if (!blkid.ok()) return v;
  auto r = os::RunTool({*blkid, "-p", "-o", "export", image});
  if (!r.ok()) return v;
  size_t pos = 0;
  while (pos < r->out.size()) {
    size_t nl = r->out.find('\n', pos);
    std::string line = r->out.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    size_t eq = line.find('=');
    if (eq != std::string::npos) {
      std::string val;
      for (size_t i = eq + 1; i < line.size(); ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) ++i;
        val += line[i];
      }
      v[line.substr(0, eq)] = val;
    }
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return v;
}

struct Case {
  FsSpec spec;
  uint64_t mib;
  std::string want_uuid;
};

TEST(NodeMkfsReal, ImagesCarryTheRequestedTypeUuidAndLabel) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  os::RealEnv runner;
  TempTree t;
  const std::vector<Case> cases = {
      {{"ext4", "0f3c1c47-5d6b-4c8e-9a51-1e2b3c4d5e6f", "ka-root", {}}, 64, ""},
      {{"xfs", "9B1DEB4D-3B7D-4BAD-9BDD-2B0D7B3DCB6D", "ka-data", {}}, 400, ""},
      {{"btrfs", "c3a3bb0d-8d3d-4b4e-9d55-0b9f8e8f2a10", "ka-btr", {}}, 128, ""},
      {{"swap", "5e1f7a52-2c7e-4f4d-8b7a-7c3e2a1b0c9d", "ka-swap", {}}, 16, ""},
      {{"vfat", "1234-abcd", "KA-ESP", {}}, 64, "1234-ABCD"},
      {{"jfs", "7d5b1f0e-3c2a-4e6b-9f8d-1a2b3c4d5e6f", "ka-jfs", {}}, 32, ""},
      {{"reiserfs", "2b6f3c1d-4e5a-4b7c-8d9e-0f1a2b3c4d5e", "ka-reiser", {}}, 40, ""},
  };
  int tested = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.spec.type);
    const std::string tool = MkfsCommands(c.spec, "/dev/null", runner).ok() ? "" : "missing";
    if (!tool.empty()) {
      std::printf("skipping %s: its mkfs tool is not installed\n", c.spec.type.c_str());
      continue;
    }
    const std::string image = t / (c.spec.type + ".img");
    {
      FILE* f = std::fopen(image.c_str(), "w");
      ASSERT_NE(f, nullptr);
      ASSERT_EQ(::ftruncate(::fileno(f), static_cast<off_t>(c.mib << 20)), 0);
      std::fclose(f);
    }
    ASSERT_TRUE(CheckFsFits(c.spec, c.mib << 20).ok());
    Status s = MakeFilesystem(c.spec, image, runner);
    ASSERT_TRUE(s.ok()) << s.message();
    auto v = Blkid(image);
    EXPECT_EQ(v["TYPE"], c.spec.type);
    std::string uuid = c.want_uuid.empty() ? c.spec.uuid : c.want_uuid;
    for (auto& ch : uuid) ch = static_cast<char>(c.spec.type == "vfat" ? std::toupper(ch) : std::tolower(ch));
    EXPECT_EQ(v["UUID"], uuid);
    EXPECT_EQ(v["LABEL"], c.spec.label);
    ::unlink(image.c_str());
    ++tested;
  }
  EXPECT_GE(tested, 5);
}

}  // namespace
}  // namespace ka::node
