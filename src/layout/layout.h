// The disk layout model: what a desc file says about a disk (table kind, and per
// partition its type, size, flags and filesystem), independent of any real disk.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "layout/part_type.h"

namespace ka::layout {

// A partition size (or start) as written in a desc: a count in some unit, or "fill".
struct SizeSpec {
  enum class Unit {
    kMiB,      // "3500" (the seed's megabytes), "3500M", "3500MiB"
    kGiB,      // "20G", "20GiB"
    kTiB,      // "2T", "2TiB"
    kSectors,  // "614400s": logical sectors of the disk (what describe writes for odd sizes)
    kPercent,  // "50%": percent of the whole disk, rounded down to a whole MiB
    kFill,     // "fill": what is left at this level
  };
  Unit unit = Unit::kMiB;
  uint64_t value = 0;  // unused for kFill

  static SizeSpec MiB(uint64_t v) { return {Unit::kMiB, v}; }
  static SizeSpec GiB(uint64_t v) { return {Unit::kGiB, v}; }
  static SizeSpec Sectors(uint64_t v) { return {Unit::kSectors, v}; }
  static SizeSpec Percent(uint64_t v) { return {Unit::kPercent, v}; }
  static SizeSpec Fill() { return {Unit::kFill, 0}; }
  bool is_fill() const { return unit == Unit::kFill; }
  bool operator==(const SizeSpec&) const = default;
};

struct Partition {
  int line = 0;          // line of the desc it came from (0: not from a desc)
  bool logical = false;  // MBR logical partition (inside the extended one)
  PartType type;
  SizeSpec size;
  std::optional<SizeSpec> start;  // explicit first sector (default: right after the previous one)
  std::optional<int> number;      // explicit partition number (default: the next one)
  bool boot = false;              // MBR active flag / GPT LegacyBIOSBootable attribute
  std::string name;               // GPT partition name (PARTLABEL)
  std::string partuuid;           // GPT partition GUID (PARTUUID)
  std::string fs;                 // filesystem type: ext4, xfs, vfat, swap, ...
  std::string mount;              // mount point ("/", "/boot/efi"); empty: unknown / none
  std::string label;              // filesystem label
  std::string uuid;               // filesystem UUID
  bool operator==(const Partition&) const = default;
};

struct Layout {
  TableLabel label = TableLabel::kMbr;
  bool label_given = false;  // the desc had a "label" line (the seed's files have none)
  std::string id;            // disk identifier: MBR "0x1234abcd" or GPT GUID; empty: new one
  std::vector<Partition> partitions;
  bool operator==(const Layout&) const = default;
};

// "desc line 3" for messages (or "partition 3" for a partition that came from no desc).
std::string Where(const Partition& p, size_t index);

}  // namespace ka::layout
