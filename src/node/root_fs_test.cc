#include "node/root_fs.h"

#include <gtest/gtest.h>

#include "node/temp_tree_for_test.h"

namespace ka::node {
namespace {

class NodeRootFs : public ::testing::Test {
 protected:
  void SetUp() override {
    t_.Mkdir("root/etc");
    t_.Mkdir("host");
    t_.Write("host/passwd", "root:x:0:0\n");
    auto fs = RootFs::Open(t_ / "root");
    ASSERT_TRUE(fs.ok()) << fs.status().message();
    fs_.emplace(std::move(*fs));
  }
  TempTree t_;
  std::optional<RootFs> fs_;
};

TEST_F(NodeRootFs, AbsoluteSymlinkRestartsAtRoot) {
  t_.Mkdir("root/run/systemd/resolve");
  t_.Write("root/run/systemd/resolve/stub-resolv.conf", "nameserver 127.0.0.53\n");
  t_.Symlink("/run/systemd/resolve/stub-resolv.conf", "root/etc/resolv.conf");
  auto e = fs_->Resolve("/etc/resolv.conf");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->rel, "run/systemd/resolve/stub-resolv.conf");
  EXPECT_EQ(e->host, fs_->root() + "/run/systemd/resolve/stub-resolv.conf");
  EXPECT_TRUE(e->is_file());
  EXPECT_TRUE(e->symlink_followed);
  auto link = fs_->Resolve("etc/resolv.conf", /*follow_last=*/false);
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->rel, "etc/resolv.conf");
  EXPECT_TRUE(link->is_symlink());
}

TEST_F(NodeRootFs, DotDotStopsAtRoot) {
  t_.Symlink("../../../../../../host/passwd", "root/etc/up");
  auto e = fs_->Resolve("/etc/up");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->rel, "host/passwd");  // ROOT/host/passwd, which does not exist
  EXPECT_FALSE(e->exists);
  auto d = fs_->Resolve("/../../etc/./");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->rel, "etc");
  EXPECT_TRUE(d->is_dir());
}

TEST_F(NodeRootFs, WritingThroughALinkToAHostFileNeverTouchesTheHost) {
  t_.Symlink(t_ / "host/passwd", "root/etc/hostname");          // absolute, to a file outside ROOT
  t_.Symlink("../../../host/passwd", "root/etc/hostname-rel");   // relative, climbing out
  EXPECT_FALSE(fs_->Write("/etc/hostname", "node1\n", 0644).ok());  // ROOT/<that path> has no directory
  EXPECT_FALSE(fs_->Write("/etc/hostname-rel", "node1\n", 0644).ok());
  EXPECT_EQ(t_.Read("host/passwd"), "root:x:0:0\n");
  // With the directory present inside ROOT, the write lands there.
  t_.Mkdir("root/host");
  auto w = fs_->Write("/etc/hostname-rel", "node1\n", 0644);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(t_.Read("root/host/passwd"), "node1\n");
  EXPECT_EQ(t_.Read("host/passwd"), "root:x:0:0\n");
}

TEST_F(NodeRootFs, SymlinkLoopAndNonDirectory) {
  t_.Symlink("b", "root/etc/a");
  t_.Symlink("a", "root/etc/b");
  auto loop = fs_->Resolve("/etc/a");
  ASSERT_FALSE(loop.ok());
  EXPECT_NE(loop.status().message().find("too many levels of symbolic links"), std::string::npos);
  t_.Write("root/etc/file", "x");
  auto nd = fs_->Resolve("/etc/file/x");
  ASSERT_FALSE(nd.ok());
  EXPECT_NE(nd.status().message().find("/etc/file"), std::string::npos);
  EXPECT_NE(nd.status().message().find("not a directory"), std::string::npos);
}

TEST_F(NodeRootFs, WriteInPlaceKeepsModeAndReportsChanges) {
  t_.Write("root/etc/secret", "a=1\n", 0600);
  auto w = fs_->Write("/etc/secret", "a=2\n", 0644);
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(*w);
  EXPECT_EQ(t_.Mode("root/etc/secret"), 0600u);
  EXPECT_EQ(t_.Read("root/etc/secret"), "a=2\n");
  auto again = fs_->Write("/etc/secret", "a=2\n", 0644);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  auto created = fs_->Write("/etc/new", "", 0444);
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(*created);
  EXPECT_EQ(t_.Mode("root/etc/new"), 0444u);
  EXPECT_FALSE(fs_->Write("/etc", "x", 0644).ok());  // a directory
  auto r = fs_->Read("/etc/secret");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value_or(""), "a=2\n");
  auto none = fs_->Read("/etc/none");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(NodeRootFs, RemoveTakesTheLinkNotItsTarget) {
  t_.Write("root/etc/target", "keep");
  t_.Symlink("/etc/target", "root/etc/link");
  auto r = fs_->Remove("/etc/link");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_FALSE(t_.Exists("root/etc/link"));
  EXPECT_EQ(t_.Read("root/etc/target"), "keep");
  auto gone = fs_->Remove("/etc/link");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(*gone);
  EXPECT_FALSE(fs_->Remove("/etc").ok());
  EXPECT_FALSE(fs_->Remove("/").ok());
}

TEST_F(NodeRootFs, RemoveTreeDoesNotFollowLinks) {
  t_.Write("root/var/lib/x/a", "1");
  t_.Write("root/var/lib/x/sub/b", "2");
  t_.Symlink(t_ / "host", "root/var/lib/x/escape");
  auto r = fs_->RemoveTree("/var/lib/x");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(*r);
  EXPECT_FALSE(t_.Exists("root/var/lib/x"));
  EXPECT_EQ(t_.Read("host/passwd"), "root:x:0:0\n");
}

TEST_F(NodeRootFs, MakeDirsSymlinkListChmod) {
  auto d = fs_->MakeDirs("/etc/systemd/system/multi-user.target.wants", 0755);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(*d);
  EXPECT_EQ(t_.Mode("root/etc/systemd/system"), 0755u);
  auto d2 = fs_->MakeDirs("/etc/systemd/system/multi-user.target.wants", 0755);
  ASSERT_TRUE(d2.ok());
  EXPECT_FALSE(*d2);
  auto s = fs_->Symlink("/etc/x", "/etc/systemd/system/multi-user.target.wants/x");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(*s);
  EXPECT_EQ(t_.LinkText("root/etc/systemd/system/multi-user.target.wants/x"), "/etc/x");
  auto s2 = fs_->Symlink("/etc/x", "/etc/systemd/system/multi-user.target.wants/x");
  ASSERT_TRUE(s2.ok());
  EXPECT_FALSE(*s2);
  auto l = fs_->List("/etc");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(*l, (std::vector<std::string>{"systemd"}));
  auto none = fs_->List("/nonexistent");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  t_.Write("root/etc/f", "", 0600);
  auto c = fs_->Chmod("/etc/f", 0444);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(*c);
  EXPECT_EQ(t_.Mode("root/etc/f"), 0444u);
}

}  // namespace
}  // namespace ka::node
