#include "node/chroot.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "node/temp_tree_for_test.h"
#include "os/real_env.h"
#include "testing/fake_env.h"

namespace ka::node {
namespace {

using Strings = std::vector<std::string>;

class NodeChroot : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* d : {"root/dev", "root/proc", "root/sys", "root/run", "root/etc"}) t_.Mkdir(d);
    r_ = t_ / "root";
  }
  // The mount(2) calls alone (no mknod of the private /dev's nodes).
  Strings MountCalls() const {
    Strings out;
    for (const auto& c : m_.mount_calls)
      if (c.rfind("mknod ", 0) != 0) out.push_back(c);
    return out;
  }
  TempTree t_;
  std::string r_;
  os::FakeEnv m_;
};

TEST_F(NodeChroot, MountsInOrderPrivateAndUnmountsInReverse) {
  auto c = ChrootMounts::Setup(r_, m_);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(MountCalls(), (Strings{"tmpfs " + r_ + "/dev nosuid mode=0755", "private " + r_ + "/dev",
                               "bind /dev/pts " + r_ + "/dev/pts", "private " + r_ + "/dev/pts",
                               "bind /proc " + r_ + "/proc", "private " + r_ + "/proc",
                               "bind /sys " + r_ + "/sys", "private " + r_ + "/sys",
                               "tmpfs " + r_ + "/run nosuid,nodev mode=0755", "private " + r_ + "/run"}));
  EXPECT_EQ((*c)->mounted().size(), 5u);
  EXPECT_TRUE((*c)->created().empty());
  m_.mount_calls.clear();
  ASSERT_TRUE((*c)->Release().ok());
  EXPECT_EQ(m_.mount_calls, (Strings{"umount " + r_ + "/run", "umount " + r_ + "/sys", "umount " + r_ + "/proc",
                               "umount " + r_ + "/dev/pts", "umount " + r_ + "/dev"}));
  EXPECT_TRUE((*c)->mounted().empty());
  m_.mount_calls.clear();
  c->reset();  // nothing left for the destructor
  EXPECT_TRUE(m_.mount_calls.empty());
}

TEST_F(NodeChroot, EfiVarsOnAnEfiHost) {
  m_.AddDir("/sys/firmware/efi/efivars");
  {
    auto c = ChrootMounts::Setup(r_, m_);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(MountCalls()[8], "bind /sys/firmware/efi/efivars " + r_ + "/sys/firmware/efi/efivars");
    EXPECT_EQ(MountCalls()[9], "private " + r_ + "/sys/firmware/efi/efivars");
    m_.mount_calls.clear();
  }  // the destructor releases
  EXPECT_EQ(m_.mount_calls, (Strings{"umount " + r_ + "/run", "umount " + r_ + "/sys/firmware/efi/efivars",
                               "umount " + r_ + "/sys", "umount " + r_ + "/proc", "umount " + r_ + "/dev/pts",
                               "umount " + r_ + "/dev"}));
}

TEST_F(NodeChroot, PrivateDevHoldsTheStandardDevicesTheDiskAndItsLinks) {
  BlockNode disk{"loop5", 7, 5, 0, "", "", "", "", "", {}};
  BlockNode root{"loop5p6", 259, 3, 6, "ext4", "6b610000-0000-4000-8000-000000000006", "root", "6b61676f-06", "", {}};
  auto c = ChrootMounts::Setup(r_, m_, {disk, root});
  ASSERT_TRUE(c.ok()) << c.status().message();
  Strings nodes;
  for (const auto& call : m_.mount_calls)
    if (call.rfind("mknod ", 0) == 0) nodes.push_back(call);
  EXPECT_EQ(nodes, (Strings{"mknod " + r_ + "/dev/null c 1:3 666", "mknod " + r_ + "/dev/zero c 1:5 666",
                            "mknod " + r_ + "/dev/full c 1:7 666", "mknod " + r_ + "/dev/random c 1:8 666",
                            "mknod " + r_ + "/dev/urandom c 1:9 666", "mknod " + r_ + "/dev/tty c 5:0 666",
                            "mknod " + r_ + "/dev/console c 5:1 600", "mknod " + r_ + "/dev/loop5 b 7:5 660",
                            "mknod " + r_ + "/dev/loop5p6 b 259:3 660"}));
  // made after the tmpfs, before /dev/pts is bound on it
  auto calls = m_.mount_calls;
  auto tmpfs = std::find(calls.begin(), calls.end(), "private " + r_ + "/dev");
  auto pts = std::find(calls.begin(), calls.end(), "bind /dev/pts " + r_ + "/dev/pts");
  ASSERT_TRUE(tmpfs < pts);
  EXPECT_TRUE(std::all_of(tmpfs + 1, pts, [](const std::string& x) { return x.rfind("mknod ", 0) == 0; }));
  EXPECT_EQ(t_.LinkText("root/dev/disk/by-uuid/6b610000-0000-4000-8000-000000000006"), "../../loop5p6");
  EXPECT_EQ(t_.LinkText("root/dev/disk/by-label/root"), "../../loop5p6");
  EXPECT_EQ(t_.LinkText("root/dev/disk/by-partuuid/6b61676f-06"), "../../loop5p6");
  EXPECT_EQ(t_.LinkText("root/dev/block/7:5"), "../loop5");
  EXPECT_EQ(t_.LinkText("root/dev/fd"), "/proc/self/fd");
  EXPECT_EQ(t_.LinkText("root/dev/ptmx"), "pts/ptmx");
  EXPECT_EQ(t_.Mode("root/dev/shm"), 01777u);
}

TEST_F(NodeChroot, MissingMountPointsAreCreatedSymlinksRefused) {
  TempTree t;
  t.Mkdir("root/etc");
  auto c = ChrootMounts::Setup(t / "root", m_);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ((*c)->created(), (Strings{t / "root/dev", t / "root/proc", t / "root/sys", t / "root/run"}));
  EXPECT_EQ(t.Mode("root/run"), 0755u);
  c->reset();

  TempTree u;
  u.Mkdir("root/dev");
  u.Mkdir("host-run");
  u.Symlink(u / "host-run", "root/run");
  os::FakeEnv m;
  auto bad = ChrootMounts::Setup(u / "root", m);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), u / "root/run" + " is a symlink (to " + u / "host-run" +
                                        "): ka mounts only on directories of the image");
  EXPECT_TRUE(m.mount_calls.empty());
}

TEST_F(NodeChroot, AFailedMountUndoesTheOthers) {
  m_.fail_mount = r_ + "/sys";
  auto c = ChrootMounts::Setup(r_, m_);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "preparing the chroot " + r_ + ": mount " + r_ + "/sys: No such device");
  Strings mounts = MountCalls();
  EXPECT_EQ(Strings(mounts.end() - 3, mounts.end()),
            (Strings{"umount " + r_ + "/proc", "umount " + r_ + "/dev/pts", "umount " + r_ + "/dev"}));
}

TEST_F(NodeChroot, BusyMountsAreRetriedThenDetachedLazilyAndReported) {
  auto c = ChrootMounts::Setup(r_, m_);
  ASSERT_TRUE(c.ok());
  m_.busy = {r_ + "/proc"};
  m_.stuck = {r_ + "/run"};
  m_.mount_calls.clear();
  Status s = (*c)->Release();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "releasing the chroot " + r_ + ": " + r_ +
                             "/proc stayed busy and was detached lazily (a process may still run in the chroot: "
                             "fuser -vm " + r_ + "); unmount " + r_ + "/run: Device or resource busy");
  EXPECT_EQ((*c)->lazily_detached(), (Strings{r_ + "/proc"}));
  EXPECT_EQ(m_.pauses, 6);
  EXPECT_EQ(std::count(m_.mount_calls.begin(), m_.mount_calls.end(), "umount " + r_ + "/proc"), 4);
  EXPECT_EQ(m_.mount_calls.back(), "umount " + r_ + "/dev");  // the rest still unmounted, in order
  EXPECT_TRUE((*c)->mounted().empty());
}

// For real, as root, in a child process with its own mount namespace (nothing can
// leak into the host's): mounts appear, are private, and are all gone afterwards.
TEST_F(NodeChroot, RealMountsLeaveMountinfoClean) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipefd[0]);
    std::string err;
    auto fail = [&](const std::string& m) {
      err += m + "\n";
    };
    auto mountinfo = [] {
      std::ifstream in("/proc/self/mountinfo");
      std::stringstream ss;
      ss << in.rdbuf();
      return ss.str();
    };
    if (::unshare(CLONE_NEWNS) != 0) {
      fail("unshare(CLONE_NEWNS) failed");
    } else if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
               ::mount(nullptr, "/", nullptr, MS_REC | MS_SHARED, nullptr) != 0) {
      fail("making / private then shared in the new namespace failed");
    } else {
      os::RealEnv rm;
      auto c = ChrootMounts::Setup(r_, rm);
      if (!c.ok()) {
        fail(c.status().message());
      } else {
        std::istringstream lines(mountinfo());
        std::string line;
        int ours = 0;
        while (std::getline(lines, line)) {
          std::istringstream f(line);
          std::string id, parent, devno, root, point, opts, opt;
          f >> id >> parent >> devno >> root >> point >> opts;
          if (point.rfind(r_ + "/", 0) != 0) continue;
          ++ours;
          while (f >> opt && opt != "-")
            if (opt.rfind("shared:", 0) == 0 || opt.rfind("master:", 0) == 0) fail(point + " is not private: " + line);
        }
        if (ours != static_cast<int>((*c)->mounted().size())) fail("expected our mounts in mountinfo, found " + std::to_string(ours));
        if (::access((r_ + "/proc/self/mountinfo").c_str(), R_OK) != 0) fail("no /proc inside the chroot");
        if (::access((r_ + "/dev/null").c_str(), F_OK) != 0) fail("no /dev/null inside the chroot");
        Status s = (*c)->Release();
        if (!s.ok()) fail(s.message());
        if (mountinfo().find(r_ + "/") != std::string::npos) fail("mounts left under the root:\n" + mountinfo());
      }
    }
    ssize_t w = ::write(pipefd[1], err.data(), err.size());
    (void)w;
    ::close(pipefd[1]);
    ::_exit(err.empty() ? 0 : 1);
  }
  ::close(pipefd[1]);
  std::string err;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) err.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  int ws = 0;
  ASSERT_EQ(::waitpid(pid, &ws, 0), pid);
  EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) << err;
  std::ifstream in("/proc/self/mountinfo");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str().find(r_), std::string::npos);  // and nothing ever reached this namespace
}

}  // namespace
}  // namespace ka::node
