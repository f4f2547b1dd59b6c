#include "golden/inspect.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "golden/esp_files.h"
#include "golden/fstab.h"
#include "golden/mountinfo.h"
#include "layout/desc_parser.h"
#include "layout/desc_writer.h"
#include "layout/describe.h"
#include "layout/from_table.h"
#include "layout/validate.h"
#include "os/env.h"
#include "os/real_env.h"
#include "os/run_tool.h"
#include "util/log.h"
#include "util/proc_filesystems.h"
#include "util/strings.h"
#include "util/units.h"

#include <fmt/ranges.h>

namespace ka::golden {

namespace fs = std::filesystem;

namespace {

const std::set<std::string> kTreeTypes = {"ext2", "ext3", "ext4", "xfs", "btrfs", "jfs", "reiserfs", "vfat"};

std::string ReadSmallFile(const std::string& path, size_t max = 1 << 20) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {};
  std::string s(max, '\0');
  f.read(s.data(), static_cast<std::streamsize>(max));
  s.resize(static_cast<size_t>(f.gcount()));
  return s;
}

bool KernelSupports(os::Env& env, const std::string& type) {
  auto text = env.ReadFile("/proc/filesystems");
  return text.ok() && KernelFilesystems(*text).count(type) > 0;
}

// Options that keep a read-only mount from writing anything (no journal replay).
std::string ReadOnlyData(const std::string& type) {
  if (type == "ext3" || type == "ext4") return "noload";
  if (type == "xfs") return "norecovery,nouuid";  // nouuid: a clone of it may be mounted here too
  if (type == "btrfs") return "rescue=nologreplay";
  return {};
}

bool IsDir(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string DiskName(std::string d) {
  if (d.rfind("/dev/", 0) == 0) d = d.substr(5);
  return d;
}

}  // namespace

Result<std::string> DiskOfRoot(os::Env& env) {
  auto mounts = ReadMountInfo(env);
  if (!mounts.ok()) return mounts.status();
  const MountEntry* root = nullptr;
  for (const auto& m : *mounts)
    if (m.mount_point == "/") root = &m;  // the last one wins (the visible one)
  if (!root) return Status::Io("no \"/\" in /proc/self/mountinfo");
  std::string sys = "/sys/dev/block/" + std::to_string(root->major) + ":" + std::to_string(root->minor);
  auto real = env.ResolvePath(sys);
  if (!real.ok())
    return Status::Invalid("\"/\" is on " + root->source + " (" + root->type +
                           "), which is not a block device: the running system cannot be cloned from \"/\"; give "
                           "--source the golden's disk or image");
  if (!env.FileExists(*real + "/partition"))
    return Status::Invalid("\"/\" is on " + root->source + ", which is not a partition of a disk (LVM, RAID or a "
                           "whole-disk filesystem): ka clones partitioned disks");
  // .../block/sda/sda2: the disk is the parent directory.
  const std::string parent = real->substr(0, real->rfind('/'));
  return "/dev/" + parent.substr(parent.rfind('/') + 1);
}

Result<std::unique_ptr<Golden>> Golden::Open(const InspectOptions& options, os::Env& env) {
  std::unique_ptr<Golden> g(new Golden(env));
  Status s = g->Inspect(options);
  if (!s.ok()) {
    (void)g->Close();
    return s;
  }
  return g;
}

Golden::~Golden() { (void)Close(); }

Status Golden::Close() {
  Status first = mounts_.UnmountAll();
  for (auto it = loops_.rbegin(); it != loops_.rend(); ++it) {
    if (Status d = env_.DetachLoop(*it); !d.ok()) {
      Status s = Status::Io("could not detach " + *it + " (losetup -d): " + d.message());
      LogWarn("{}", s.ToString());
      if (first.ok()) first = s;
    }
  }
  loops_.clear();
  for (auto& p : parts_)
    if (!p.dir.empty()) (void)env_.RemoveDir(p.dir);  // best effort: an empty directory in /run
  if (!run_dir_.empty()) (void)env_.RemoveDir(run_dir_);
  run_dir_.clear();
  return first;
}

Status Golden::Inspect(const InspectOptions& o) {
  if (o.source.empty()) return Status::Invalid("--source is required: a disk image, a block device, or /");
  std::string disk = o.source;
  if (o.source == "/") {
    auto d = DiskOfRoot(env_);
    if (!d.ok()) return d.status();
    disk = d.value();
    live_ = true;
  }
  for (const auto& x : o.exclude_disk)
    if (DiskName(x) == DiskName(disk))
      return Status::Invalid("--exclude-disk " + x + " excludes the golden's own disk " + disk);
  auto desc = layout::DescribeDisk(env_, disk);
  if (!desc.ok()) return desc.status().Wrap("reading the golden's disk " + disk);
  disk_ = desc->disk.path;
  manifest_.golden_disk = desc->disk.geometry.size_bytes;
  manifest_.source = o.source == "/" ? "/ (" + disk_ + ")" : disk_;
  manifest_.hostname_template = o.hostname_template;
  manifest_.initramfs_options = o.initramfs_options;

  std::set<int> raw(o.raw_partitions.begin(), o.raw_partitions.end());
  std::set<int> numbers;
  const auto& layout = desc->layout;
  const auto& table = desc->table;
  std::vector<layout::TableEntry> in_order = layout::EntriesInLineOrder(table);
  if (in_order.size() != layout.partitions.size())
    return Status::Io("internal: the golden's desc and table differ in length");
  for (size_t i = 0; i < layout.partitions.size(); ++i) {
    const auto& lp = layout.partitions[i];
    const layout::TableEntry* te = &in_order[i];
    numbers.insert(te->number);
    GoldenPart gp;
    auto& m = gp.info;
    m.number = te->number;
    m.fs = lp.fs;
    m.uuid = lp.uuid;
    m.label = lp.label;
    m.size = te->size * table.sector_size;
    bool extended = layout::IsExtended(lp.type);
    if (layout::IsEfi(lp.type) && esp_index_ < 0) esp_index_ = static_cast<int>(i);
    if (raw.count(m.number)) {
      if (extended) return Status::Invalid("--raw-partition " + std::to_string(m.number) + " is the extended partition");
      m.method = format::Method::kRaw;
    } else if (extended || m.fs.empty()) {
      m.method = format::Method::kNone;
    } else if (m.fs == "swap") {
      m.method = format::Method::kSwap;
    } else if (kTreeTypes.count(m.fs)) {
      if (KernelSupports(env_, m.fs)) {
        m.method = format::Method::kTree;
      } else if (m.fs == "vfat") {
        m.method = format::Method::kRaw;
        notes_.push_back("partition " + std::to_string(m.number) +
                         " (vfat): this kernel cannot mount vfat, so it is copied block for block");
      } else {
        return Status::Invalid("partition " + std::to_string(m.number) + " holds " + m.fs +
                               ", which this kernel cannot mount; copy it block for block with --raw-partition " +
                               std::to_string(m.number) + " or use a kernel with " + m.fs + " support");
      }
    } else {
      return Status::Invalid("partition " + std::to_string(m.number) + " holds " + m.fs +
                             ", which ka cannot copy file by file; copy it block for block with --raw-partition " +
                             std::to_string(m.number));
    }
    if (m.method == format::Method::kRaw) m.used = m.size;
    parts_.push_back(gp);
  }
  for (int r : raw)
    if (!numbers.count(r)) return Status::Invalid("--raw-partition " + std::to_string(r) + ": the golden has no such partition");

  KA_RETURN_IF_ERROR(ExposeAndMount(desc->disk.block_device));
  KA_RETURN_IF_ERROR(MapFstab(o));
  KA_RETURN_IF_ERROR(MapExcludes(o));
  KA_RETURN_IF_ERROR(ResolveBootloader(o));
  KA_RETURN_IF_ERROR(ReadBootCode(o));

  layout::Layout out = desc->layout;
  for (size_t i = 0; i < out.partitions.size(); ++i)
    for (const auto& gp : parts_)
      if (in_order[i].number == gp.info.number) out.partitions[i].mount = gp.info.mount;
  if (!o.layout_file.empty()) KA_RETURN_IF_ERROR(ApplyLayoutFile(o, out));
  manifest_.desc = layout::WriteDesc(out);
  for (const auto& gp : parts_) manifest_.partitions.push_back(gp.info);
  if (!root_dir_.empty()) manifest_.golden_hostname = Trim(ReadSmallFile(root_dir_ + "/etc/hostname", 256));
  return Status::Ok();
}

// Attaches a read-only loop device per streamed partition and mounts the tree
// ones read-only; a partition already mounted on this machine is bind-mounted
// read-only from its mount point instead.
Status Golden::ExposeAndMount(bool block_device) {
  auto rd = os::MakeRunDir(env_, "golden");
  if (!rd.ok()) return rd.status();
  run_dir_ = rd.value();
  std::vector<MountEntry> mounts;
  if (block_device) {
    auto mi = ReadMountInfo(env_);
    if (!mi.ok()) return mi.status();
    mounts = mi.value();
  }
  auto table = layout::DescribeDisk(env_, disk_, {{}, false});
  if (!table.ok()) return table.status();
  for (auto& gp : parts_) {
    auto& m = gp.info;
    if (m.method != format::Method::kTree && m.method != format::Method::kRaw) continue;
    // Already mounted (the running system, or an operator's read-only mount)?
    std::string mounted_at;
    if (block_device) {
      if (auto kp = env_.KernelPartitionOf(disk_, m.number); kp && kp->node_ok) {
        for (const auto& me : mounts)
          if (me.major == kp->major && me.minor == kp->minor && me.root == "/") mounted_at = me.mount_point;
      }
    }
    gp.dir = run_dir_ + "/p" + std::to_string(m.number);
    if (m.method == format::Method::kTree && !mounted_at.empty()) {
      KA_RETURN_IF_ERROR(env_.MakeDirs(gp.dir, 0700));
      KA_RETURN_IF_ERROR(os::BindReadOnly(env_, mounted_at, gp.dir));
      mounts_.Push(gp.dir);
      LogInfo("golden partition {} ({}) is mounted at {}: reading it through a read-only bind mount", m.number, m.fs,
              mounted_at);
      continue;
    }
    uint64_t offset = 0;
    for (const auto& e : table->table.entries)
      if (e.number == m.number) offset = e.start * table->table.sector_size;
    auto loop = env_.AttachLoop(disk_, offset, m.size, /*read_only=*/true);
    if (!loop.ok()) return loop.status();
    gp.device = *loop;
    loops_.push_back(gp.device);
    if (m.method == format::Method::kRaw) {
      gp.dir.clear();
      continue;
    }
    KA_RETURN_IF_ERROR(env_.MakeDirs(gp.dir, 0700));
    KA_RETURN_IF_ERROR(os::MountFs(env_, gp.device, gp.dir, m.fs, /*read_only=*/true, ReadOnlyData(m.fs))
                           .Wrap("golden partition " + std::to_string(m.number)));
    mounts_.Push(gp.dir);
  }
  for (auto& gp : parts_) {
    if (gp.info.method != format::Method::kTree) continue;
    struct statvfs sv {};
    if (::statvfs(gp.dir.c_str(), &sv) == 0)
      gp.info.used = static_cast<uint64_t>(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
  }
  return Status::Ok();
}

// Finds the golden's root filesystem (the one with /etc/fstab) and gives every
// partition its mount point from that fstab.
Status Golden::MapFstab(const InspectOptions& o) {
  std::vector<GoldenPart*> candidates;
  for (auto& gp : parts_)
    if (gp.info.method == format::Method::kTree && fs::is_regular_file(gp.dir + "/etc/fstab")) candidates.push_back(&gp);
  if (candidates.empty()) {
    notes_.push_back("no /etc/fstab on any golden filesystem: no mount points, no individualisation, no bootloader");
    return Status::Ok();
  }
  std::string table_id;
  {
    auto d = layout::DescribeDisk(env_, disk_, {{}, false});
    if (d.ok()) table_id = Lower(d->table.id);
  }
  auto matches = [&](const SpecMatch& sm, const GoldenPart& gp) {
    switch (sm.kind) {
      case SpecMatch::kUuid: return !gp.info.uuid.empty() && Lower(gp.info.uuid) == sm.value;
      case SpecMatch::kLabel: return !gp.info.label.empty() && gp.info.label == sm.value;
      case SpecMatch::kPartitionNumber: return std::to_string(gp.info.number) == sm.value;
      case SpecMatch::kPartUuid: {
        // MBR PARTUUIDs are DISKID-NN.
        std::string id = table_id.rfind("0x", 0) == 0 ? table_id.substr(2) : table_id;
        char nn[8];
        std::snprintf(nn, sizeof nn, "-%02x", gp.info.number);  // blkid: the number in hex
        return sm.value == id + nn;
      }
      default: return false;
    }
  };
  GoldenPart* root = nullptr;
  std::vector<FstabEntry> root_fstab;
  for (GoldenPart* c : candidates) {
    auto entries = ParseFstab(ReadSmallFile(c->dir + "/etc/fstab"));
    if (!entries.ok()) return entries.status().Wrap("golden partition " + std::to_string(c->info.number) + " /etc/fstab");
    for (const auto& e : *entries)
      if (e.file == "/" && matches(ParseSpec(e.spec), *c)) {
        root = c;
        root_fstab = *entries;
      }
    if (!root && candidates.size() == 1) {
      root = c;
      root_fstab = *entries;
      notes_.push_back("the golden's /etc/fstab does not name partition " + std::to_string(c->info.number) +
                       " as \"/\"; using it as the root filesystem anyway");
    }
  }
  if (!root) return Status::Invalid("several golden filesystems have an /etc/fstab and none names itself as \"/\"");
  root->info.mount = "/";
  root_dir_ = root->dir;
  for (const auto& e : root_fstab) {
    if (e.file == "/") continue;
    SpecMatch sm = ParseSpec(e.spec);
    if (sm.kind == SpecMatch::kUnknown) continue;  // proc, tmpfs, nfs, ...
    GoldenPart* hit = nullptr;
    for (auto& gp : parts_)
      if (matches(sm, gp)) hit = &gp;
    if (!hit) {
      std::string msg = "golden fstab line " + std::to_string(e.line) + " (" + e.spec + " on " + e.file +
                        ") names no partition of " + disk_;
      bool excluded = false;
      for (const auto& x : o.exclude_disk) excluded |= e.spec.find(DiskName(x)) != std::string::npos;
      if (live_ && !excluded && e.type != "swap")
        return Status::Invalid(msg + ": it is on another disk; ka clones one disk per session, so exclude that disk "
                                     "with --exclude-disk NAME (the nodes keep the fstab line)");
      notes_.push_back(msg + "; the nodes keep the line as it is");
      continue;
    }
    if (e.type != "swap" && e.file != "none" && e.file != "swap") hit->info.mount = e.file;
  }
  return Status::Ok();
}

// Each excluded golden path belongs to the filesystem with the longest mount
// point that is a prefix of it.
Status Golden::MapExcludes(const InspectOptions& o) {
  for (const auto& x : o.exclude) {
    if (x.empty() || x[0] != '/')
      return Status::Invalid("--exclude " + x + ": give an absolute path on the golden, e.g. /tmp");
    std::string path = fs::path(x).lexically_normal().string();
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    if (path == "/" || path.find("/../") != std::string::npos)
      return Status::Invalid("--exclude " + x + ": cannot exclude the whole system");
    GoldenPart* best = nullptr;
    for (auto& gp : parts_) {
      const std::string& mp = gp.info.mount;
      if (gp.info.method != format::Method::kTree || mp.empty()) continue;
      bool prefix = mp == "/" || path == mp || path.rfind(mp + "/", 0) == 0;
      if (prefix && (!best || mp.size() > best->info.mount.size())) best = &gp;
    }
    if (!best) return Status::Invalid("--exclude " + x + ": no golden filesystem is mounted there");
    const std::string& mp = best->info.mount;
    if (path == mp) return Status::Invalid("--exclude " + x + " is a whole filesystem; leave it out of the clone instead");
    std::string rel = mp == "/" ? path.substr(1) : path.substr(mp.size() + 1);
    if (!IsDir(best->dir + "/" + rel))
      return Status::Invalid("--exclude " + x + ": no such directory on the golden (symlinks are not followed)");
    best->info.exclude.push_back(rel);
  }
  return Status::Ok();
}

Status Golden::ResolveBootloader(const InspectOptions& o) {
  // A path of the golden system, through its mount points (/boot or /usr may be partitions of their own).
  auto where = [&](const std::string& path) {
    std::string best_dir = root_dir_, best_mount = "/";
    for (const auto& gp : parts_) {
      const std::string& m = gp.info.mount;
      if (m.empty() || m == "/" || gp.dir.empty() || m.size() <= best_mount.size()) continue;
      if (path == m || path.rfind(m + "/", 0) == 0) best_dir = gp.dir, best_mount = m;
    }
    return best_dir + (best_mount == "/" ? path : path.substr(best_mount.size()));
  };
  auto has = [&](std::initializer_list<const char*> paths) {
    if (root_dir_.empty()) return false;
    for (const char* p : paths)
      if (::access(where(p).c_str(), X_OK) == 0) return true;
    return false;
  };
  bool grub = has({"/usr/sbin/grub-install", "/usr/sbin/grub2-install", "/sbin/grub-install", "/sbin/grub2-install"});
  bool lilo = has({"/sbin/lilo", "/usr/sbin/lilo"});
  // A GRUB configuration without grub-install: the nodes' own GRUB (stage2) installs it.
  bool grub_cfg = !root_dir_.empty() && ::access(where("/boot/grub/grub.cfg").c_str(), R_OK) == 0;
  KA_RETURN_IF_ERROR(DescribeBoot(
      o,
      grub && !root_dir_.empty() &&
          (has({"/usr/sbin/grub-mkconfig", "/sbin/grub-mkconfig", "/usr/sbin/grub2-mkconfig", "/sbin/grub2-mkconfig"})),
      where));
  const std::string& want = o.bootloader;
  if (want == "auto") {
    manifest_.bootloader = grub ? "grub" : lilo ? "lilo" : grub_cfg ? "grub-node" : "none";
    if (manifest_.bootloader == "grub-node")
      notes_.push_back("the golden has /boot/grub/grub.cfg but no grub-install: the nodes install GRUB with their "
                       "own grub-install (netboot stage2) and keep that grub.cfg");
    if (!grub && !lilo && !grub_cfg)
      notes_.push_back("the golden has neither grub-install nor lilo: the nodes get no bootloader (--bootloader auto)");
  } else if (want == "grub" && !grub && grub_cfg) {
    manifest_.bootloader = "grub-node";
  } else if (want == "grub" || want == "lilo") {
    if (!(want == "grub" ? grub : lilo))
      return Status::Invalid("--bootloader " + want + ": the golden system has no " +
                             (want == "grub" ? std::string("grub-install (/usr/sbin/grub-install)") : "/sbin/lilo") +
                             "; install it on the golden, or choose " + (grub ? "grub or none" : lilo ? "lilo or none" : "none"));
    manifest_.bootloader = want;
  } else if (want == "none") {
    manifest_.bootloader = "none";
  } else {
    return Status::Invalid("--bootloader " + want + ": choose auto, grub, lilo or none");
  }
  return Status::Ok();
}

Status Golden::DescribeBoot(const InspectOptions& o, bool grub2,
                            const std::function<std::string(const std::string&)>& where) {
  auto& boot = manifest_.boot;
  boot.firmware = o.node_firmware;
  boot.efi_entry = o.efi_entry;
  if (grub2) {
    boot.known = true;
    for (const char* platform : {"i386-pc", "x86_64-efi"})
      if (fs::is_directory(where(std::string("/usr/lib/grub/") + platform))) boot.grub_platforms.push_back(platform);
    boot.signed_efi = fs::is_regular_file(where("/usr/lib/shim/shimx64.efi.signed")) &&
                      fs::is_regular_file(where("/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed"));
  }
  if (esp_index_ < 0) return Status::Ok();
  boot.known = true;
  const GoldenPart& esp = parts_[static_cast<size_t>(esp_index_)];
  if (esp.info.method == format::Method::kTree && !esp.dir.empty()) {
    boot.esp_files = EspFilesInDir(env_, esp.dir);
  } else if (esp.info.method == format::Method::kRaw && !esp.device.empty()) {
    auto files = EspFilesOnDevice(env_, esp.device);
    if (!files.ok()) {
      notes_.push_back("the EFI system partition (partition " + std::to_string(esp.info.number) +
                       ") travels block for block and its files cannot be listed (" + files.status().message() +
                       "): nodes that cannot mount vfat will refuse it");
    } else {
      boot.esp_files = files.value();
    }
  }
  if (!boot.esp_files.empty())
    notes_.push_back("EFI system partition (partition " + std::to_string(esp.info.number) +
                     "): " + fmt::format("{}", fmt::join(boot.esp_files, " ")));
  return Status::Ok();
}

Status Golden::ReadBootCode(const InspectOptions& o) {
  if (o.copy_mbr && !o.mbr_file.empty()) return Status::Invalid("--copy-mbr and --mbr-file exclude each other");
  std::string code;
  if (o.copy_mbr) {
    code = ReadSmallFile(disk_, 446);
    if (code.size() != 446) return Status::Io("cannot read the boot code (446 bytes) of " + disk_);
  } else if (!o.mbr_file.empty()) {
    std::string f = ReadSmallFile(o.mbr_file, 4096);
    if (f.size() == 512 && static_cast<uint8_t>(f[510]) == 0x55 && static_cast<uint8_t>(f[511]) == 0xaa) f.resize(446);
    if (f.size() != 446)
      return Status::Invalid("--mbr-file " + o.mbr_file + ": must hold 446 bytes of boot code (or a 512-byte MBR), it has " +
                             std::to_string(f.size()));
    code = f;
  } else {
    return Status::Ok();
  }
  static const char* hex = "0123456789abcdef";
  for (unsigned char c : code) {
    manifest_.mbr_hex += hex[c >> 4];
    manifest_.mbr_hex += hex[c & 15];
  }
  return Status::Ok();
}

// The operator's desc replaces the golden's table: every streamed partition
// needs a partition of the same number, the same filesystem type, and room.
Status Golden::ApplyLayoutFile(const InspectOptions& o, layout::Layout& out) {
  auto golden_numbers_r = layout::PartitionNumbers(out);
  if (!golden_numbers_r.ok()) return golden_numbers_r.status();
  const std::vector<int>& golden_numbers = golden_numbers_r.value();
  std::string text = ReadSmallFile(o.layout_file);
  if (text.empty()) return Status::Invalid("--layout " + o.layout_file + ": cannot read it or it is empty");
  auto parsed = layout::ParseDesc(text);
  if (!parsed.ok()) return parsed.status().Wrap("--layout " + o.layout_file);
  layout::Layout l = parsed.value();
  KA_RETURN_IF_ERROR(layout::CheckLayout(l).Wrap("--layout " + o.layout_file));
  auto numbers = layout::PartitionNumbers(l);
  if (!numbers.ok()) return numbers.status();
  for (auto& gp : parts_) {
    auto& m = gp.info;
    if (m.method == format::Method::kNone) continue;
    size_t idx = l.partitions.size();
    for (size_t i = 0; i < l.partitions.size(); ++i)
      if ((*numbers)[i] == m.number) idx = i;
    if (idx == l.partitions.size())
      return Status::Invalid("--layout " + o.layout_file + " has no partition " + std::to_string(m.number) +
                             " for the golden's " + m.fs + (m.mount.empty() ? "" : " (" + m.mount + ")"));
    auto& p = l.partitions[idx];
    if (!p.fs.empty() && p.fs != m.fs)
      return Status::Invalid("--layout " + o.layout_file + " line " + std::to_string(p.line) + ": partition " +
                             std::to_string(m.number) + " is fs=" + p.fs + " but the golden's is " + m.fs +
                             "; ka keeps filesystem types");
    p.fs = m.fs;
    if (p.uuid.empty()) p.uuid = m.uuid;
    if (p.label.empty()) p.label = m.label;
    if (p.mount.empty()) p.mount = m.mount;
    p.number = m.number;
    // GPT: the golden's partition GUID, so PARTUUID= in fstab and bootloaders still names it.
    if (p.partuuid.empty() && l.label == out.label)
      for (size_t i = 0; i < out.partitions.size(); ++i)
        if (out.partitions[i].number.value_or(-1) == m.number || golden_numbers[i] == m.number)
          p.partuuid = out.partitions[i].partuuid;
  }
  // The golden's disk id unless the desc sets one: MBR PARTUUIDs are made from it.
  if (l.id.empty() && l.label == out.label) l.id = out.id;
  out = l;
  return Status::Ok();
}

std::string Golden::Summary() const {
  std::string s = "golden " + manifest_.source + " (" + FormatBytes(manifest_.golden_disk) + "), bootloader " +
                  manifest_.bootloader + "\n";
  for (const auto& gp : parts_) {
    const auto& m = gp.info;
    s += fmt::format("  partition {:>2}  {:<6} {:<5} {:<10} used {:>10}  {}{}\n", m.number, m.fs.empty() ? "-" : m.fs,
                     format::MethodName(m.method), m.mount.empty() ? "-" : m.mount, FormatBytes(m.used),
                     m.label.empty() ? "" : "label " + m.label + " ", m.exclude.empty() ? "" : fmt::format("excluded: {}", fmt::join(m.exclude, " ")));
  }
  for (const auto& n : notes_) s += "  note: " + n + "\n";
  return s;
}

}  // namespace ka::golden
