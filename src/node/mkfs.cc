#include "node/mkfs.h"

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "util/proc_filesystems.h"
#include "util/strings.h"

namespace ka::node {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;

enum class IdForm { kUuid, kVolumeId };

struct FsKind {
  const char* type;
  const char* tool;
  const char* package;
  const char* kernel_name;  // nullptr: not mounted (swap)
  size_t max_label;
  IdForm id;
  uint64_t min_bytes;
};

const FsKind kKinds[] = {
    {"ext2", "mkfs.ext2", "e2fsprogs", "ext2", 16, IdForm::kUuid, 128 * kKiB},
    {"ext3", "mkfs.ext3", "e2fsprogs", "ext3", 16, IdForm::kUuid, 2 * kMiB},
    {"ext4", "mkfs.ext4", "e2fsprogs", "ext4", 16, IdForm::kUuid, 2 * kMiB},
    // mkfs.xfs of xfsprogs 5.19 and later: "Filesystem must be larger than 300MB"
    // (300 MiB exactly is accepted, one 4 KiB block less is not).
    {"xfs", "mkfs.xfs", "xfsprogs", "xfs", 12, IdForm::kUuid, 300 * kMiB},
    {"btrfs", "mkfs.btrfs", "btrfs-progs", "btrfs", 255, IdForm::kUuid, 114294784},
    {"vfat", "mkfs.vfat", "dosfstools", "vfat", 11, IdForm::kVolumeId, 64 * kKiB},
    {"swap", "mkswap", "util-linux", nullptr, 16, IdForm::kUuid, 40 * kKiB},
    {"jfs", "jfs_mkfs", "jfsutils", "jfs", 16, IdForm::kUuid, 16 * kMiB},
    {"reiserfs", "mkreiserfs", "reiserfsprogs", "reiserfs", 16, IdForm::kUuid, 32848 * kKiB},
};

const FsKind* Kind(const std::string& type) {
  for (const auto& k : kKinds)
    if (type == k.type) return &k;
  return nullptr;
}

std::string TypeList() {
  std::string s;
  for (const auto& k : kKinds) s += (s.empty() ? "" : ", ") + std::string(k.type);
  return s;
}

bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsHex(s[i])) return false;
  }
  return true;
}

bool IsVolumeId(const std::string& s) {
  if (s.size() != 9 || s[4] != '-') return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (i != 4 && !IsHex(s[i])) return false;
  return true;
}

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string HumanBytes(uint64_t b) {
  if (b % kMiB == 0) return std::to_string(b / kMiB) + " MiB";
  if (b % kKiB == 0) return std::to_string(b / kKiB) + " KiB";
  return std::to_string(b) + " bytes";
}

}  // namespace

Status ValidateFsSpec(const FsSpec& spec) {
  const FsKind* k = Kind(spec.type);
  if (k == nullptr) {
    return Status::Invalid("unknown filesystem type '" + spec.type + "': ka makes " + TypeList());
  }
  if (!spec.uuid.empty()) {
    if (k->id == IdForm::kUuid && !IsUuid(spec.uuid)) {
      return Status::Invalid(spec.type + " uuid '" + spec.uuid +
                             "' is not a UUID: write it as 8-4-4-4-12 hexadecimal digits, e.g. "
                             "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
    }
    if (k->id == IdForm::kVolumeId && !IsVolumeId(spec.uuid)) {
      return Status::Invalid("vfat uuid '" + spec.uuid +
                             "' is not a FAT volume id: write it as 4-4 hexadecimal digits, e.g. 1234-ABCD");
    }
  }
  if (spec.label.size() > k->max_label) {
    return Status::Invalid(spec.type + " label '" + spec.label + "' is " + std::to_string(spec.label.size()) +
                           " bytes long: " + spec.type + " labels hold at most " + std::to_string(k->max_label));
  }
  for (char c : spec.label) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return Status::Invalid(spec.type + " label '" + spec.label + "' contains a control character");
    }
    if (k->id == IdForm::kVolumeId) {
      if (u >= 0x80) return Status::Invalid("vfat label '" + spec.label + "': use ASCII characters only");
      if (std::string("*?.,;:/\\|+=<>[]\"").find(c) != std::string::npos) {
        return Status::Invalid("vfat label '" + spec.label + "' contains '" + std::string(1, c) +
                               "': FAT labels cannot contain any of *?.,;:/\\|+=<>[]\"");
      }
    }
  }
  return Status::Ok();
}

Status CheckFsSupported(const FsSpec& spec, os::Env& runner, const std::string& proc_filesystems_text) {
  KA_RETURN_IF_ERROR(ValidateFsSpec(spec));
  const FsKind* k = Kind(spec.type);
  auto tool = runner.Find(k->tool, k->package);
  if (!tool.ok()) return tool.status().Wrap("cannot make " + spec.type);
  if (spec.type == "jfs" && !spec.uuid.empty()) {
    auto tune = runner.Find("jfs_tune", "jfsutils");
    if (!tune.ok()) return tune.status().Wrap("cannot set the uuid of jfs");
  }
  if (k->kernel_name == nullptr) return Status::Ok();
  if (KernelFilesystems(proc_filesystems_text).count(k->kernel_name) != 0) return Status::Ok();
  // Filesystems built as modules appear in /proc/filesystems once loaded.
  std::string why;
  auto modprobe = runner.Find("modprobe", "kmod");
  if (!modprobe.ok()) {
    why = modprobe.status().message();
  } else {
    auto r = runner.Run({*modprobe, k->kernel_name});
    if (r.ok()) return Status::Ok();
    why = r.status().message();
  }
  return Status::Invalid(spec.type + " is not supported by this kernel: it is not in /proc/filesystems and " +
                         "loading its module failed (" + why + "); choose another filesystem type or boot the " +
                         "node with a kernel that has " + spec.type);
}

uint64_t MinFsBytes(const std::string& type) {
  const FsKind* k = Kind(type);
  return k == nullptr ? 0 : k->min_bytes;
}

Status CheckFsFits(const FsSpec& spec, uint64_t partition_bytes) {
  const FsKind* k = Kind(spec.type);
  if (k == nullptr) return ValidateFsSpec(spec);
  if (partition_bytes < k->min_bytes) {
    return Status::Invalid(spec.type + " needs a partition of at least " + HumanBytes(k->min_bytes) +
                           " (mkfs refuses smaller ones), this one has " + std::to_string(partition_bytes) +
                           " bytes: make the partition larger or choose another filesystem type");
  }
  return Status::Ok();
}

Result<std::vector<std::vector<std::string>>> MkfsCommands(const FsSpec& spec, const std::string& device,
                                                           os::Env& runner) {
  KA_RETURN_IF_ERROR(ValidateFsSpec(spec));
  const FsKind* k = Kind(spec.type);
  auto tool = runner.Find(k->tool, k->package);
  if (!tool.ok()) return tool.status().Wrap("cannot make " + spec.type);
  const std::string uuid = k->id == IdForm::kVolumeId ? Upper(spec.uuid) : Lower(spec.uuid);
  const std::string& label = spec.label;
  std::vector<std::string> a{*tool};
  auto add = [&](std::initializer_list<std::string> words) { a.insert(a.end(), words); };
  std::vector<std::vector<std::string>> cmds;
  const std::string t = spec.type;
  if (t == "ext2" || t == "ext3" || t == "ext4") {
    add({"-F", "-q"});
    if (!uuid.empty()) add({"-U", uuid});
    if (!label.empty()) add({"-L", label});
  } else if (t == "xfs") {
    add({"-f", "-q"});
    if (!uuid.empty()) add({"-m", "uuid=" + uuid});
    if (!label.empty()) add({"-L", label});
  } else if (t == "btrfs") {
    add({"-f", "-q"});
    if (!uuid.empty()) add({"-U", uuid});
    if (!label.empty()) add({"-L", label});
  } else if (t == "vfat") {
    if (!uuid.empty()) add({"-i", uuid.substr(0, 4) + uuid.substr(5)});
    if (!label.empty()) add({"-n", label});
  } else if (t == "swap") {
    if (!uuid.empty()) add({"-U", uuid});
    if (!label.empty()) add({"-L", label});
  } else if (t == "jfs") {
    add({"-q"});
    if (!label.empty()) add({"-L", label});
  } else if (t == "reiserfs") {
    add({"-q"});
    if (!uuid.empty()) add({"-u", uuid});
    if (!label.empty()) add({"-l", label});
  }
  a.insert(a.end(), spec.extra.begin(), spec.extra.end());
  a.push_back(device);
  cmds.push_back(std::move(a));
  if (t == "jfs" && !uuid.empty()) {
    auto tune = runner.Find("jfs_tune", "jfsutils");
    if (!tune.ok()) return tune.status().Wrap("cannot set the uuid of jfs");
    cmds.push_back({*tune, "-U", uuid, device});
  }
  return cmds;
}

Status MakeFilesystem(const FsSpec& spec, const std::string& device, os::Env& runner) {
  auto cmds = MkfsCommands(spec, device, runner);
  if (!cmds.ok()) return cmds.status();
  for (const auto& argv : *cmds) {
    auto r = runner.Run(argv);
    if (!r.ok()) return r.status().Wrap("making " + spec.type + " on " + device);
  }
  return Status::Ok();
}

}  // namespace ka::node
