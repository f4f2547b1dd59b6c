// libFuzzer target: ExtractTree of arbitrary bytes (what a node extracts from the chain)
// into a fresh directory per input, removed afterwards. Never a crash, a hang or a leaked
// file descriptor, and never a write outside that directory.
//
// As root (the node's case), the process first moves into a private mount namespace where
// every mount is read-only except the working directory (libFuzzer's corpus and crash
// files: keep them below it) and a nodev tmpfs OUTER over /mnt; each input is extracted
// into a fresh directory OUTER/root, then made removable (immutable flags cleared) and
// removed. A write outside OUTER/root is caught as a new name beside it, or as "Read-only
// file system" in the error; neither can reach this machine's files, and a device node in
// an archive cannot be opened. Not as root: the same in a temporary directory in /tmp.
#include <fcntl.h>
#include <ftw.h>
#include <linux/fs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "node/tree_extract.h"

namespace {

bool g_root_user = false;
std::string g_outer;  // the directory that holds only "root" between inputs
std::string g_root;   // OUTER/root: where each input is extracted
int g_input = -1;     // a memfd holding the current input

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "tree_extract_fuzz: %s: %s\n", what.c_str(), std::strerror(errno));
  std::abort();
}

[[noreturn]] void Escape(const std::string& what) {
  std::fprintf(stderr, "tree_extract_fuzz: WRITE OUTSIDE THE EXTRACTION ROOT: %s\n", what.c_str());
  std::abort();
}

void SetAttr(int dirfd, unsigned flags, uint64_t set, uint64_t clear) {
  struct mount_attr attr = {};
  attr.attr_set = set;
  attr.attr_clr = clear;
  if (::mount_setattr(dirfd, "", flags | AT_EMPTY_PATH, &attr, sizeof attr) != 0) Die("mount_setattr");
}

// OUTER is a fresh tmpfs over /mnt, seen only in this namespace: nothing is left behind.
void MakeReadOnlyWorld() {
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof cwd) == nullptr) Die("getcwd");
  if (::unshare(CLONE_NEWNS) != 0) Die("unshare(CLONE_NEWNS)");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) Die("making / private");
  if (::mount(cwd, cwd, nullptr, MS_BIND | MS_REC, nullptr) != 0) Die("bind-mounting the working directory");
  int cwd_fd = ::open(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);  // the bind mount
  if (cwd_fd < 0 || ::fchdir(cwd_fd) != 0) Die("entering the working directory's bind mount");
  if (::mount("ka-fuzz", g_outer.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=0700") != 0)
    Die("mounting a tmpfs on " + g_outer);
  int outer_fd = ::open(g_outer.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (outer_fd < 0) Die("opening " + g_outer);
  int root_fd = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) Die("opening /");
  SetAttr(root_fd, AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0);
  SetAttr(cwd_fd, AT_RECURSIVE, 0, MOUNT_ATTR_RDONLY);
  SetAttr(outer_fd, 0, 0, MOUNT_ATTR_RDONLY);
  ::close(root_fd);
  ::close(cwd_fd);
  ::close(outer_fd);
}

int Unlink(const char* path, const struct stat*, int type, struct FTW*) {
  return type == FTW_DP ? ::rmdir(path) : ::unlink(path);
}

// Makes an extracted file or directory removable: rwx for us on directories, no immutable
// or append-only flag (the archive may set them; as root they are restored).
int OpenUp(const char* path, const struct stat* st, int type, struct FTW*) {
  if (type == FTW_D || type == FTW_DNR) ::chmod(path, (st->st_mode & 07777) | 0700);
  if (type != FTW_D && !(type == FTW_F && S_ISREG(st->st_mode))) return 0;
  int fd = ::open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return 0;
  unsigned flags = 0;
  if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & (FS_IMMUTABLE_FL | FS_APPEND_FL)) != 0) {
    flags &= ~static_cast<unsigned>(FS_IMMUTABLE_FL | FS_APPEND_FL);
    ::ioctl(fd, FS_IOC_SETFLAGS, &flags);
  }
  ::close(fd);
  return 0;
}

void RemoveRoot() {
  ::nftw(g_root.c_str(), OpenUp, 16, FTW_PHYS);
  ::nftw(g_root.c_str(), Unlink, 16, FTW_PHYS | FTW_DEPTH);
  struct stat st {};
  if (::lstat(g_root.c_str(), &st) == 0) Die("could not remove " + g_root);
}

// A descriptor still open on something under OUTER after ExtractTree returned (counting all
// descriptors would catch libFuzzer's own reads of /proc/self/status in another thread).
void CheckNoDescriptorLeft() {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    std::string target = std::filesystem::read_symlink(e.path(), ec).string();
    if (target.rfind(g_outer + "/", 0) == 0) {
      std::fprintf(stderr, "tree_extract_fuzz: ExtractTree left descriptor %s open on %s\n",
                   e.path().filename().c_str(), target.c_str());
      std::abort();
    }
  }
}

void CheckNothingBeside() {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(g_outer, ec))
    if (e.path().filename() != "root") Escape("'" + e.path().string() + "' appeared beside the root");
  if (ec) Die("listing " + g_outer);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_root_user = ::geteuid() == 0;
  if (g_root_user) {
    g_outer = "/mnt";
    MakeReadOnlyWorld();
  } else {
    char tmpl[] = "/tmp/ka-extract-fuzz.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) Die("mkdtemp");
    g_outer = tmpl;
    std::fprintf(stderr, "tree_extract_fuzz: not root: extracting into %s without the read-only sandbox\n",
                 g_outer.c_str());
    std::atexit([] { ::rmdir(g_outer.c_str()); });
  }
  g_root = g_outer + "/root";
  g_input = ::memfd_create("ka-fuzz-input", MFD_CLOEXEC);
  if (g_input < 0) Die("memfd_create");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (::ftruncate(g_input, 0) != 0 || ::pwrite(g_input, data, size, 0) != static_cast<ssize_t>(size) ||
      ::lseek(g_input, 0, SEEK_SET) != 0)
    Die("writing the input into a memfd");
  if (::mkdir(g_root.c_str(), 0755) != 0) Die("mkdir " + g_root);
  auto r = ka::node::ExtractTree(g_input, g_root);
  if (!r.ok() && r.status().message().find("Read-only file system") != std::string::npos)
    Escape(r.status().ToString());
  CheckNothingBeside();
  CheckNoDescriptorLeft();
  RemoveRoot();
  CheckNothingBeside();
  return 0;
}
