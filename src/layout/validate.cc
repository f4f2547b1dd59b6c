#include "layout/validate.h"

#include <map>
#include <set>

namespace ka::layout {
namespace {

Status At(const Partition& p, size_t i, const std::string& why) { return Status::Invalid(Where(p, i) + ": " + why); }

std::string Line(const Partition& p, size_t i) { return Where(p, i); }

}  // namespace

Result<std::vector<int>> PartitionNumbers(const Layout& layout) {
  std::vector<int> numbers;
  std::map<int, size_t> used;  // number -> index
  int next_primary = 1, next_logical = 5;
  const bool mbr = layout.label == TableLabel::kMbr;
  for (size_t i = 0; i < layout.partitions.size(); ++i) {
    const Partition& p = layout.partitions[i];
    int n;
    if (mbr && p.logical) {
      if (p.number && *p.number != next_logical)
        return At(p, i,
                  "number=" + std::to_string(*p.number) +
                      ": logical partitions are numbered in order (5, 6, ...), this one is " +
                      std::to_string(next_logical));
      n = next_logical++;
    } else {
      n = p.number ? *p.number : next_primary;
      if (mbr && n > 4) {
        if (p.number) return At(p, i, "number=" + std::to_string(n) + ": MBR primary partitions are numbered 1 to 4");
        return At(p, i,
                  "no primary slot left: an MBR disk holds at most 4 primary partitions (extended included); "
                  "put the others inside an extended partition as logical ones");
      }
      if (n > 128) return At(p, i, "partition number " + std::to_string(n) + " is above 128, the GPT maximum");
      next_primary = n + 1;
    }
    auto it = used.find(n);
    if (it != used.end())
      return At(p, i,
                "partition number " + std::to_string(n) + " is already used by " +
                    Line(layout.partitions[it->second], it->second));
    used[n] = i;
    numbers.push_back(n);
  }
  return numbers;
}

Status CheckLayout(const Layout& layout) {
  const bool mbr = layout.label == TableLabel::kMbr;
  const auto& parts = layout.partitions;
  if (!mbr && parts.size() > 128) return At(parts[128], 128, "more than 128 partitions: a GPT holds at most 128");
  int extended_at = -1, primaries = 0;
  int fill_top = -1, fill_logical = -1;
  std::map<std::string, size_t> mounts;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Partition& p = parts[i];
    const bool ext = IsExtended(p.type);
    if (!mbr) {
      if (ext)
        return At(p, i, "an extended partition exists only on MBR disks (a GPT holds 128 partitions without one)");
      if (p.logical) return At(p, i, "'logical' exists only on MBR disks (a GPT has no extended partition)");
    } else {
      if (ext && p.logical) return At(p, i, "an extended partition cannot be logical");
      if (ext && extended_at >= 0)
        return At(p, i,
                  "a second extended partition (" + Line(parts[extended_at], extended_at) +
                      " has one already): MBR allows one");
      if (p.logical && extended_at < 0) {
        for (size_t j = i + 1; j < parts.size(); ++j)
          if (IsExtended(parts[j].type))
            return At(p, i,
                      "logical partition before the extended partition (" + Line(parts[j], j) +
                          "): put logical lines after it");
        return At(p, i, "logical partition without an extended partition");
      }
      if (!p.logical && ++primaries > 4)
        return At(p, i,
                  "a fifth primary partition: an MBR disk holds at most 4 (extended included); "
                  "put the others as logical partitions inside an extended one");
      if (!p.name.empty()) return At(p, i, "name= needs a GPT disk (label gpt): MBR partitions have no names");
      if (!p.partuuid.empty())
        return At(p, i, "partuuid= needs a GPT disk (label gpt): MBR partition ids derive from the disk id");
      if (ext) extended_at = static_cast<int>(i);
    }
    if (ext && (!p.fs.empty() || !p.mount.empty() || !p.label.empty() || !p.uuid.empty() || p.boot))
      return At(p, i,
                "an extended partition is only a container for logical ones: fs=, mount=, label=, uuid= and "
                "boot do not apply to it");
    if (IsEfi(p.type) && !p.fs.empty() && p.fs != "vfat")
      return At(p, i, "an EFI system partition must be vfat (fs=vfat), not fs=" + p.fs);
    if (!p.mount.empty()) {
      if (p.fs.empty()) return At(p, i, "mount=" + p.mount + " needs fs=... (the filesystem to mount there)");
      if (p.fs == "swap" || IsSwap(p.type)) return At(p, i, "a swap partition has no mount point (drop mount=)");
      auto [it, fresh] = mounts.emplace(p.mount, i);
      if (!fresh)
        return At(p, i, "mount point " + p.mount + " is already used by " + Line(parts[it->second], it->second));
    }
    int& fill = p.logical ? fill_logical : fill_top;
    const char* level = p.logical ? "among the logical partitions" : "at the top level";
    if (p.start && fill >= 0)
      return At(p, i,
                "start= cannot follow a fill partition at the same level (" + Line(parts[fill], fill) +
                    "): its position would depend on the fill");
    if (p.size.is_fill()) {
      if (fill >= 0)
        return At(p, i,
                  std::string("a second fill ") + level + " (" + Line(parts[fill], fill) +
                      " fills already): one fill per level");
      fill = static_cast<int>(i);
    }
  }
  auto numbers = PartitionNumbers(layout);
  if (!numbers.ok()) return numbers.status();
  return Status::Ok();
}

}  // namespace ka::layout
