#include "node/bootloader.h"
#include "node/target.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "layout/desc_parser.h"
#include "layout/partitions.h"
#include "node/mkfs.h"
#include "util/fd.h"
#include "util/log.h"
#include "util/proc_filesystems.h"
#include "util/strings.h"
#include "util/units.h"

#include <fmt/ranges.h>

namespace ka::node {

namespace {

Status ZeroRange(const std::string& dev, uint64_t offset, uint64_t len) {
  UniqueFd fd(::open(dev.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::Io("cannot open " + dev + " to clear boot code: " + std::strerror(errno));
  std::vector<char> zeros(static_cast<size_t>(std::min<uint64_t>(len, 1 << 20)), 0);
  while (len > 0) {
    size_t k = static_cast<size_t>(std::min<uint64_t>(len, zeros.size()));
    ssize_t w = ::pwrite(fd.get(), zeros.data(), k, static_cast<off_t>(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return Status::Io("clearing " + dev + " at " + std::to_string(offset) + ": " + std::strerror(errno));
    offset += static_cast<uint64_t>(w);
    len -= static_cast<uint64_t>(w);
  }
  if (::fsync(fd.get()) != 0) return Status::Io("fsync " + dev + ": " + std::strerror(errno));
  return Status::Ok();
}

// xfs refuses a second filesystem with the same UUID on one kernel: clones
// share their golden's UUID (test beds and the golden's host mount several).
// Its speculative preallocation would fill holes of sparse files that are
// written block by block: allocsize keeps it small, so holes stay holes.
std::string MountData(const std::string& type) { return type == "xfs" ? "nouuid,allocsize=64k" : ""; }

FsSpec SpecOf(const format::ManifestPartition& p) {
  FsSpec s;
  s.type = p.fs;
  s.uuid = p.uuid;
  s.label = p.label;
  return s;
}

}  // namespace

Target::~Target() {
  (void)UnmountAll();
  if (touched_ && !released_) (void)Release();
  RemoveRunDir();
}

void Target::RemoveRunDir() {
  if (run_dir_.empty()) return;
  for (auto& p : parts_)
    if (!p.dir.empty()) (void)env_.RemoveDir(p.dir);  // best effort: empty directories in /run
  (void)env_.RemoveDir(run_dir_ + "/root");
  (void)env_.RemoveDir(run_dir_);
}

TargetPartition* Target::Find(int number) {
  for (auto& p : parts_)
    if (p.info.number == number) return &p;
  return nullptr;
}

Status Target::Check(const format::Manifest& m, const std::string& disk) {
  manifest_ = m;
  disk_ = disk;
  auto l = layout::ParseDesc(m.desc);
  if (!l.ok()) return l.status().Wrap("the golden's layout");
  layout_ = l.value();
  layout::ApplyOptions dry;
  dry.dry_run = true;
  auto plan = layout::ApplyLayout(env_, disk, layout_, dry);
  if (!plan.ok()) return plan.status().Wrap("the golden's layout does not fit " + disk);
  applied_ = plan.value();
  auto procfs_text = env_.ReadFile("/proc/filesystems");
  if (!procfs_text.ok()) return Status::Io(procfs_text.status().message() + "; is /proc mounted?");
  const std::string& procfs = procfs_text.value();
  parts_.clear();
  for (const auto& mp : m.partitions) {
    TargetPartition tp;
    tp.info = mp;
    for (const auto& e : applied_.plan.table.entries)
      if (e.number == mp.number) tp.size = e.size * applied_.plan.table.sector_size;
    std::string what = "partition " + std::to_string(mp.number) + (mp.mount.empty() ? "" : " (" + mp.mount + ")");
    if (mp.method != format::Method::kNone && tp.size == 0)
      return Status::Invalid("the layout has no " + what + " that the golden streams");
    switch (mp.method) {
      case format::Method::kTree:
      case format::Method::kSwap: {
        FsSpec spec = SpecOf(mp);
        KA_RETURN_IF_ERROR(CheckFsSupported(spec, env_, procfs).Wrap(what));
        KA_RETURN_IF_ERROR(CheckFsFits(spec, tp.size).Wrap(what));
        if (mp.method == format::Method::kTree && tp.size < mp.used)
          return Status::Invalid(what + " would be " + FormatBytes(tp.size) + " on " + disk + " but the golden's " +
                                 mp.fs + " holds " + FormatBytes(mp.used) + "; use a larger disk or a --layout with room");
        break;
      }
      case format::Method::kRaw:
        if (tp.size < mp.size)
          return Status::Invalid(what + " would be " + FormatBytes(tp.size) + " on " + disk +
                                 ", smaller than the golden's partition copied block for block (" + FormatBytes(mp.size) +
                                 ")");
        break;
      case format::Method::kNone:
        break;
    }
    parts_.push_back(tp);
  }
  auto boot = PlanBoot(env_, layout_, m, disk, procfs);
  if (!boot.ok()) return boot.status().Wrap("the boot of the clone");
  boot_plan_ = boot.value();
  checked_ = true;
  return Status::Ok();
}

Status Target::ClearBootCode() {
  // Old boot code must not start a half-written system: zero the MBR's boot
  // code (bytes 0-439; 440-445 hold the disk signature, part of the table) and, on MBR disks, the gap before the first partition (where GRUB's
  // core image lives); the contents of BIOS boot partitions (GPT) as well.
  const auto& table = applied_.plan.table;
  uint64_t sector = table.sector_size;
  KA_RETURN_IF_ERROR(ZeroRange(disk_, 0, 440));
  uint64_t first = UINT64_MAX;
  for (const auto& e : table.entries) first = std::min(first, e.start);
  if (table.label == layout::TableLabel::kMbr && first != UINT64_MAX && first > 1)
    KA_RETURN_IF_ERROR(ZeroRange(disk_, sector, (first - 1) * sector));
  for (const auto& e : table.entries)
    if (Lower(e.type) == "21686148-6449-6e6f-744e-656564454649")
      for (const auto& d : applied_.devices)
        if (d.number == e.number) KA_RETURN_IF_ERROR(ZeroRange(d.path, 0, d.size));
  return Status::Ok();
}

Result<std::string> Target::Apply() {
  if (!checked_) return Status::Invalid("internal: Target::Apply before Check");
  touched_ = true;
  if (on_state) on_state("partitioning", disk_);
  auto t0 = std::chrono::steady_clock::now();
  auto phase = [&](const char* name) {
    auto now = std::chrono::steady_clock::now();
    if (on_phase) on_phase(name, std::chrono::duration<double>(now - t0).count());
    t0 = now;
  };
  layout::ApplyOptions o;
  auto applied = layout::ApplyLayout(env_, disk_, layout_, o);
  if (!applied.ok()) return applied.status().Wrap("partitioning " + disk_);
  applied_ = applied.value();
  KA_RETURN_IF_ERROR(ClearBootCode());
  phase("partition");
  for (auto& tp : parts_)
    for (const auto& d : applied_.devices)
      if (d.number == tp.info.number) tp.device = d.path;
  auto rd = os::MakeRunDir(env_, "target");
  if (!rd.ok()) return rd.status();
  run_dir_ = rd.value();
  std::vector<std::string> made;
  for (auto& tp : parts_) {
    const auto& m = tp.info;
    if (m.method != format::Method::kTree && m.method != format::Method::kSwap) continue;
    if (tp.device.empty()) return Status::Io("partition " + std::to_string(m.number) + " has no device after partitioning");
    LogInfo("formatting partition {} ({}) as {}{}", m.number, tp.device, m.fs, m.label.empty() ? "" : " label " + m.label);
    if (on_state) on_state("formatting", "partition " + std::to_string(m.number) + " " + m.fs);
    KA_RETURN_IF_ERROR(MakeFilesystem(SpecOf(m), tp.device, env_).Wrap("formatting partition " + std::to_string(m.number)));
    made.push_back(m.fs + " p" + std::to_string(m.number));
    if (m.method != format::Method::kTree) continue;
    tp.dir = run_dir_ + "/p" + std::to_string(m.number);
    KA_RETURN_IF_ERROR(env_.MakeDirs(tp.dir, 0700));
    KA_RETURN_IF_ERROR(os::MountFs(env_, tp.device, tp.dir, m.fs, false, MountData(m.fs)));
    mounts_.Push(tp.dir);
  }
  phase("format");
  std::string detail = fmt::format("{} partitioned ({} partitions), made {}", disk_, applied_.plan.table.entries.size(),
                                   made.empty() ? std::string("no filesystem") : fmt::format("{}", fmt::join(made, ", ")));
  return detail;
}

Result<std::string> Target::ComposeRoot() {
  KA_RETURN_IF_ERROR(UnmountAll());
  std::vector<TargetPartition*> trees;
  for (auto& tp : parts_)
    if (tp.info.method == format::Method::kTree && !tp.info.mount.empty() && tp.info.mount[0] == '/') trees.push_back(&tp);
  std::sort(trees.begin(), trees.end(), [](auto* a, auto* b) {
    auto depth = [](const std::string& s) { return s == "/" ? 0 : std::count(s.begin(), s.end(), '/'); };
    return depth(a->info.mount) < depth(b->info.mount);
  });
  if (trees.empty() || trees.front()->info.mount != "/") return std::string();
  std::string root = run_dir_ + "/root";
  KA_RETURN_IF_ERROR(env_.MakeDirs(root, 0755));
  for (auto* tp : trees) {
    std::string dir = tp->info.mount == "/" ? root : root + tp->info.mount;
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return Status::Io("mount point " + tp->info.mount + " is not a directory in the cloned root filesystem");
    KA_RETURN_IF_ERROR(os::MountFs(env_, tp->device, dir, tp->info.fs, false, MountData(tp->info.fs)));
    mounts_.Push(dir);
  }
  if (boot_plan_.esp_mount) {
    TargetPartition* esp = Find(boot_plan_.esp_number);
    if (esp == nullptr || esp->device.empty())
      return Status::Io("the EFI system partition " + std::to_string(boot_plan_.esp_number) + " has no device");
    std::string dir = root + boot_plan_.target.efi_dir;
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) {
      KA_RETURN_IF_ERROR(env_.MakeDirs(dir, 0755));
    } else if (!S_ISDIR(st.st_mode)) {
      return Status::Io("mount point " + boot_plan_.target.efi_dir +
                        " is not a directory in the cloned root filesystem");
    }
    KA_RETURN_IF_ERROR(os::MountFs(env_, esp->device, dir, "vfat", false, "")
                           .Wrap("mounting the block-copied EFI system partition at " + boot_plan_.target.efi_dir));
    mounts_.Push(dir);
  }
  return root;
}

Result<std::vector<BlockNode>> Target::DiskNodes(const std::string& sysfs) {
  return DescribeDiskNodes(env_, sysfs, applied_.disk, applied_.plan.table, applied_.devices);
}

std::vector<std::string> Target::DeviceNames() const {
  auto base = [](const std::string& p) { return p.substr(p.rfind('/') + 1); };
  std::vector<std::string> names;
  if (applied_.disk.block_device) names.push_back(base(applied_.disk.path));
  for (const auto& d : applied_.devices) names.push_back(base(d.path));
  return names;
}

Status Target::UnmountAll() {
  Status s = mounts_.UnmountAll();
  ::sync();
  return s;
}

Status Target::Release() {
  released_ = true;
  auto info = env_.Inspect(disk_);
  if (!info.ok()) return info.status();
  auto r = layout::ReleasePartitions(env_, *info);
  return r.ok() ? Status::Ok() : r.status();
}

Status Target::MarkNotCloned() {
  if (!touched_) return Status::Ok();
  // Unmounting may be slow or lazy (an extraction still writing); the disk is
  // made unbootable either way: that is the verdict.
  if (Status s = UnmountAll(); !s.ok()) LogWarn("while marking {} not cloned: {}", disk_, s.ToString());
  if (Status s = Release(); !s.ok()) LogWarn("while marking {} not cloned: {}", disk_, s.ToString());
  // Zero the first MiB (MBR, boot code, GPT header and entries, GRUB's embedding
  // area) and the last MiB (GPT backup) directly: no tool that refuses a busy disk.
  uint64_t size = applied_.disk.geometry.size_bytes;
  uint64_t mib = std::min<uint64_t>(1 << 20, size);
  Status first = ZeroRange(disk_, 0, mib);
  if (first.ok() && size > mib) first = ZeroRange(disk_, size - mib, mib);
  RemoveRunDir();  // a process that exits on a signal does not run the destructor
  if (first.ok()) LogWarn("{} marked as not cloned: its partition table and boot code are erased", disk_);
  else LogError("could not mark {} as not cloned: {}", disk_, first.ToString());
  return first;
}

}  // namespace ka::node
