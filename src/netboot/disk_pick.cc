#include "netboot/disk_pick.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

namespace ka::netboot {

namespace {

// The first word of a sysfs file; empty if unreadable.
std::string ReadWord(os::Env& env, const std::string& path) {
  auto text = env.ReadFile(path);
  std::string w;
  if (text.ok()) std::istringstream(*text) >> w;
  return w;
}

bool Starts(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

int KindRank(const std::string& n) {
  if (Starts(n, "vd")) return 0;
  if (Starts(n, "sd")) return 1;
  if (Starts(n, "nvme")) return 2;
  if (Starts(n, "xvd")) return 3;
  if (Starts(n, "mmcblk")) return 4;
  return 5;
}

bool Virtual(const std::string& n) {
  for (const char* p : {"loop", "ram", "zram", "sr", "fd", "dm-", "md", "nbd", "zd"})
    if (Starts(n, p)) return true;
  return false;
}

}  // namespace

std::vector<DiskCandidate> ListFixedDisks(os::Env& env, const std::string& sys_block) {
  std::vector<DiskCandidate> out;
  auto names = env.ListDir(sys_block);
  if (!names.ok()) return out;
  for (const std::string& name : *names) {
    if (Virtual(name)) continue;
    const std::string dir = sys_block + "/" + name;
    if (ReadWord(env, dir + "/removable") == "1") continue;
    std::string size = ReadWord(env, dir + "/size");  // 512-byte sectors
    uint64_t sectors = 0;
    try {
      sectors = size.empty() ? 0 : std::stoull(size);
    } catch (...) {
      sectors = 0;
    }
    if (sectors == 0) continue;
    out.push_back({name, sectors * 512});
  }
  std::sort(out.begin(), out.end(), [](const DiskCandidate& a, const DiskCandidate& b) {
    int ra = KindRank(a.name), rb = KindRank(b.name);
    if (ra != rb) return ra < rb;
    if (a.name.size() != b.name.size()) return a.name.size() < b.name.size();  // sdb before sdaa
    return a.name < b.name;
  });
  return out;
}

Result<std::string> PickDisk(os::Env& env, const std::string& sys_block) {
  auto disks = ListFixedDisks(env, sys_block);
  if (disks.empty())
    return Status::Invalid(fmt::format(
        "no fixed disk found in {} (loop, ram, CD, removable and empty devices are skipped): check that the "
        "storage driver loaded (dmesg), or give ka.disk=/dev/... on the kernel command line",
        sys_block));
  return "/dev/" + disks.front().name;
}

}  // namespace ka::netboot
