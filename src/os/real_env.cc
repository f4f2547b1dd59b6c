#include "os/real_env.h"

#include <dirent.h>
#include <sys/mount.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "os/part_name.h"
#include "os/run_tool.h"
#include "util/fd.h"
#include "util/log.h"
#include "util/progress_ticker.h"
#include "util/strings.h"

namespace ka::os {
namespace {

std::string Basename(const std::string& p) {
  size_t s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

// First line of a small (sysfs) file, without the newline; nullopt if unreadable.
std::optional<std::string> ReadLine(const std::string& path) {
  std::ifstream f(path);
  if (!f) return std::nullopt;
  std::string line;
  std::getline(f, line);
  return line;
}

std::optional<uint64_t> ReadNumber(const std::string& path) {
  auto l = ReadLine(path);
  if (!l || l->empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(l->c_str(), &end, 10);
  if (errno != 0 || end == l->c_str()) return std::nullopt;
  return static_cast<uint64_t>(v);
}

// "8:1" in a sysfs dev file -> dev_t.
std::optional<dev_t> ReadDev(const std::string& path) {
  auto l = ReadLine(path);
  if (!l) return std::nullopt;
  unsigned ma = 0, mi = 0;
  if (std::sscanf(l->c_str(), "%u:%u", &ma, &mi) != 2) return std::nullopt;
  return makedev(ma, mi);
}

// blkid -o export values: a backslash escapes the next character.
std::string UnescapeExport(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out += s[i];
  }
  return out;
}

// Runs the tool found by name; any exit status is an answer.
Result<ToolOutput> RunAny(const std::string& tool, const std::string& package, std::vector<std::string> args,
                          const std::string& input = {}) {
  auto path = FindTool(tool, package);
  if (!path.ok()) return path.status();
  args.insert(args.begin(), *path);
  return RunTool(args, input);
}

// Runs and requires exit status 0.
Result<ToolOutput> RunOk(const std::string& tool, const std::string& package, std::vector<std::string> args,
                         const std::string& input = {}) {
  auto path = FindTool(tool, package);
  if (!path.ok()) return path.status();
  args.insert(args.begin(), *path);
  auto r = RunTool(args, input);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) return ToolFailure(args, *r);
  return r;
}

}  // namespace

Result<DiskInfo> RealEnv::Inspect(const std::string& disk) {
  char buf[PATH_MAX];
  if (::realpath(disk.c_str(), buf) == nullptr) return Status::Invalid(ErrnoMessage(disk, errno));
  DiskInfo info;
  info.path = buf;
  struct stat st;
  if (::stat(info.path.c_str(), &st) != 0) return Status::Invalid(ErrnoMessage(info.path, errno));
  if (S_ISREG(st.st_mode)) {
    info.block_device = false;
    info.geometry.size_bytes = static_cast<uint64_t>(st.st_size);
    info.geometry.sector_size = 512;
    return info;
  }
  if (!S_ISBLK(st.st_mode)) return Status::Invalid(disk + " is neither a block device nor a disk image file");
  UniqueFd fd(::open(info.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::Io(ErrnoMessage("opening " + info.path, errno));
  uint64_t size = 0;
  int ss = 0;
  if (::ioctl(fd.get(), BLKGETSIZE64, &size) != 0) return Status::Io(ErrnoMessage("BLKGETSIZE64 " + info.path, errno));
  if (::ioctl(fd.get(), BLKSSZGET, &ss) != 0) return Status::Io(ErrnoMessage("BLKSSZGET " + info.path, errno));
  info.block_device = true;
  info.geometry.size_bytes = size;
  info.geometry.sector_size = static_cast<uint64_t>(ss);
  return info;
}

Result<std::string> RealEnv::ReadTableJson(const std::string& disk) {
  auto r = RunAny("sfdisk", "fdisk", {"--json", disk});
  if (!r.ok()) return r.status();
  if (r->exit_code == 0) return r->out;
  if (r->err.find("does not contain a recognized partition table") != std::string::npos) return std::string();
  return ToolFailure({"sfdisk", "--json", disk}, *r);
}

Status RealEnv::CheckScript(const std::string& disk, const std::string& script) {
  auto r = RunOk("sfdisk", "fdisk", {"--no-act", "--quiet", "--no-reread", "--no-tell-kernel", disk}, script);
  return r.ok() ? Status::Ok() : r.status();
}

Status RealEnv::WriteTable(const std::string& disk, const std::string& script) {
  auto r = RunOk(
      "sfdisk", "fdisk",
      {"--quiet", "--no-reread", "--no-tell-kernel", "--wipe", "always", "--wipe-partitions", "always", disk}, script);
  return r.ok() ? Status::Ok() : r.status();
}

Status RealEnv::WipeSignatures(const std::string& disk) {
  auto r = RunOk("wipefs", "util-linux", {"--all", "--quiet", disk});
  return r.ok() ? Status::Ok() : r.status();
}

std::vector<std::string> RealEnv::Users(const DiskInfo& disk) {
  std::vector<std::string> reasons;
  std::map<dev_t, std::string> devs;  // devices whose use blocks a write, with their names
  if (disk.block_device) {
    struct stat st;
    if (::stat(disk.path.c_str(), &st) == 0) devs[st.st_rdev] = disk.path;
    const std::string base = Basename(disk.path);
    const std::string sys = "/sys/class/block/" + base;
    std::vector<std::string> names = {base};
    for (const auto& n : Names(sys))
      if (::access((sys + "/" + n + "/partition").c_str(), F_OK) == 0) {
        names.push_back(n);
        if (auto d = ReadDev(sys + "/" + n + "/dev")) devs[*d] = "/dev/" + n;
      }
    for (const auto& n : names) {
      std::string holders = "/sys/class/block/" + n + "/holders";
      for (const auto& h : Names(holders))
        reasons.push_back("/dev/" + n + " is held by " + h + " (device-mapper, md RAID or similar): stop it first");
    }
  }
  // Loop devices over the disk (ka's partition loops, or an image's own loop device)
  // and the kernel partitions of those.
  for (const auto& l : LoopsBackedBy(disk.path)) {
    struct stat st;
    if (::stat(l.device.c_str(), &st) == 0) devs[st.st_rdev] = l.device;
    const std::string sys = "/sys/class/block/" + Basename(l.device);
    for (const auto& n : Names(sys))
      if (::access((sys + "/" + n + "/partition").c_str(), F_OK) == 0)
        if (auto d = ReadDev(sys + "/" + n + "/dev")) devs[*d] = "/dev/" + n;
  }
  std::ifstream mi("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mi, line)) {
    std::istringstream in(line);
    std::string id, parent, majmin, root, point;
    if (!(in >> id >> parent >> majmin >> root >> point)) continue;
    unsigned ma = 0, mn = 0;
    if (std::sscanf(majmin.c_str(), "%u:%u", &ma, &mn) != 2) continue;
    auto it = devs.find(makedev(ma, mn));
    if (it != devs.end()) reasons.push_back(it->second + " is mounted on " + UnescapeOctal(point) + ": unmount it first");
  }
  std::ifstream sw("/proc/swaps");
  std::getline(sw, line);  // header
  while (std::getline(sw, line)) {
    std::istringstream in(line);
    std::string file;
    if (!(in >> file)) continue;
    struct stat st;
    if (::stat(UnescapeOctal(file).c_str(), &st) == 0 && S_ISBLK(st.st_mode)) {
      auto it = devs.find(st.st_rdev);
      if (it != devs.end()) reasons.push_back(it->second + " is in use as swap: swapoff it first");
    }
  }
  return reasons;
}

Status RealEnv::UpdateKernelPartitions(const std::string& disk) {
  // partx --update misses logical partitions the kernel does not know yet, so
  // drop what the kernel has (nothing is in use: Users() said so) and add anew.
  auto del = RunAny("partx", "util-linux", {"--delete", disk});
  if (!del.ok()) return del.status();
  auto r = RunOk("partx", "util-linux", {"--add", disk});
  return r.ok() ? Status::Ok() : r.status();
}

Status RealEnv::ForgetKernelPartitions(const std::string& disk) {
  const std::string base = Basename(disk);
  if (base.rfind("loop", 0) != 0) return Status::Ok();
  if (ReadLine("/sys/block/" + base + "/loop/partscan").value_or("0") != "0") return Status::Ok();
  bool any = false;
  for (const auto& n : Names("/sys/class/block/" + base))
    any = any || ::access(("/sys/class/block/" + base + "/" + n + "/partition").c_str(), F_OK) == 0;
  if (!any) return Status::Ok();
  auto r = RunAny("partx", "util-linux", {"--delete", disk});
  if (!r.ok()) return r.status();
  // partx may complain about the table yet delete the partitions: judge by sysfs.
  for (const auto& n : Names("/sys/class/block/" + base))
    if (::access(("/sys/class/block/" + base + "/" + n + "/partition").c_str(), F_OK) == 0)
      return ToolFailure({"partx", "--delete", disk}, *r);
  return Status::Ok();
}

std::optional<KernelPartition> RealEnv::KernelPartitionOf(const std::string& disk, int number) {
  KernelPartition kp;
  kp.device = PartitionNodeName(disk, number);
  const std::string name = Basename(kp.device);
  const std::string sys = "/sys/class/block/" + Basename(disk) + "/" + name;
  auto start = ReadNumber(sys + "/start");
  auto size = ReadNumber(sys + "/size");
  auto dev = ReadDev(sys + "/dev");
  if (!start || !size || !dev) return std::nullopt;
  kp.start512 = *start;
  kp.size512 = *size;
  struct stat st;
  kp.node_ok = ::stat(kp.device.c_str(), &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == *dev;
  kp.major = ::major(*dev);
  kp.minor = ::minor(*dev);
  return kp;
}

Result<std::string> RealEnv::AttachLoop(const std::string& backing, uint64_t offset, uint64_t size, bool read_only) {
  std::vector<std::string> args{"--offset", std::to_string(offset), "--sizelimit", std::to_string(size), "--find",
                                "--show", backing};
  if (read_only) args.insert(args.begin(), "--read-only");
  auto r = RunOk("losetup", "util-linux", args);
  if (!r.ok()) return r.status();
  std::string dev = r->out;
  while (!dev.empty() && (dev.back() == '\n' || dev.back() == ' ')) dev.pop_back();
  if (dev.rfind("/dev/", 0) != 0) return Status::Io("losetup --show printed '" + dev + "', not a device");
  return dev;
}

Status RealEnv::DetachLoop(const std::string& device) {
  auto r = RunOk("losetup", "util-linux", {"--detach", device});
  return r.ok() ? Status::Ok() : r.status();
}

std::vector<LoopDevice> RealEnv::LoopsBackedBy(const std::string& path) {
  std::vector<LoopDevice> loops;
  for (const auto& n : Names("/sys/block")) {
    if (n.rfind("loop", 0) != 0) continue;
    auto backing = ReadLine("/sys/block/" + n + "/loop/backing_file");
    if (!backing || *backing != path) continue;
    LoopDevice l;
    l.device = "/dev/" + n;
    l.offset = ReadNumber("/sys/block/" + n + "/loop/offset").value_or(0);
    l.size_limit = ReadNumber("/sys/block/" + n + "/loop/sizelimit").value_or(0);
    loops.push_back(l);
  }
  return loops;
}

Result<FsInfo> RealEnv::ProbeFilesystem(const std::string& disk, uint64_t offset, uint64_t size) {
  std::vector<std::string> args = {"-p", "-o", "export", "-O", std::to_string(offset), "-S", std::to_string(size),
                                   disk};
  auto r = RunAny("blkid", "util-linux", args);
  if (!r.ok()) return r.status();
  FsInfo fs;
  if (r->exit_code == 2) return fs;  // nothing found
  if (r->exit_code != 0) {
    args.insert(args.begin(), "blkid");
    return ToolFailure(args, *r);
  }
  std::istringstream in(r->out);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "TYPE")
      fs.type = UnescapeExport(v);
    else if (k == "UUID")
      fs.uuid = UnescapeExport(v);
    else if (k == "LABEL")
      fs.label = UnescapeExport(v);
  }
  return fs;
}

void RealEnv::Pause(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

Result<ToolOutput> RealEnv::Run(const std::vector<std::string>& argv, const std::string& input) {
  const std::string cmd = QuoteArgv(argv);
  LogInfo("run: {}", cmd);
  Result<ToolOutput> r = Status::Io("not run");
  {
    // Long commands (update-initramfs, grub-mkconfig under emulation) say they are alive.
    ProgressTicker ticker(progress_every_, [&cmd](double s) { LogInfo("still running after {:.0f} s: {}", s, cmd); });
    r = RunTool(argv, input);
  }
  if (!r.ok()) {
    LogWarn("could not start {}: {}", argv.empty() ? std::string("(empty argv)") : argv[0], r.status().message());
    return r.status();
  }
  if (r->exit_code != 0) {
    Status s = ToolFailure(argv, *r);
    LogWarn("{}", s.message());
    return s;
  }
  return r;
}

Result<std::string> RealEnv::Find(const std::string& tool, const std::string& debian_package) {
  return FindTool(tool, debian_package);
}

Status RealEnv::Mount(const std::string& source, const std::string& target, const std::string& fstype,
                      unsigned long flags, const std::string& data) {
  if (::mount(source.empty() ? nullptr : source.c_str(), target.c_str(), fstype.empty() ? nullptr : fstype.c_str(),
              flags, data.empty() ? nullptr : data.c_str()) != 0) {
    int err = errno;
    std::string what = (flags & MS_BIND) != 0      ? "bind-mount " + source + " on " + target
                       : (flags & MS_PRIVATE) != 0 ? "make " + target + " private"
                                                   : "mount " + fstype + " on " + target;
    return Status::Io(ErrnoMessage(what, err) + (err == EPERM ? " (ka must run as root)" : ""));
  }
  return Status::Ok();
}

Status RealEnv::Unmount(const std::string& target, int flags) {
  if (::umount2(target.c_str(), flags) != 0) return Status::Io(ErrnoMessage("unmount " + target, errno));
  return Status::Ok();
}

Status RealEnv::MakeNode(const std::string& path, mode_t mode, unsigned major, unsigned minor) {
  if (::mknod(path.c_str(), mode, ::makedev(major, minor)) != 0)
    return Status::Io(ErrnoMessage("mknod " + path + " " + std::to_string(major) + ":" + std::to_string(minor), errno));
  return Status::Ok();
}

Env& DefaultEnv() {
  static RealEnv* env = new RealEnv;  // never destroyed: usable from any static destructor
  return *env;
}

}  // namespace ka::os
