// A partition table in sectors, as it is (or will be) on a disk: the common ground
// of the planner, the sfdisk script writer and the sfdisk --json reader.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "layout/part_type.h"
#include "os/env.h"

namespace ka::layout {

// Size of a disk and its logical sector size (the OS seam reports it).
using Geometry = os::Geometry;

struct TableEntry {
  int number = 0;         // 1..128; MBR logical partitions are 5 and up
  uint64_t start = 0;     // first sector
  uint64_t size = 0;      // sectors
  std::string type;       // sfdisk's type field: MBR hex code ("83", "5") or GPT type GUID
  bool bootable = false;  // MBR active flag / GPT LegacyBIOSBootable
  std::string name;       // GPT partition name
  std::string uuid;       // GPT partition GUID (empty: let sfdisk make one)
  std::string attrs;      // GPT attributes as sfdisk prints them (read back only)
  uint64_t end() const { return start + size - 1; }
  bool operator==(const TableEntry&) const = default;
};

struct Table {
  TableLabel label = TableLabel::kMbr;
  std::string id;  // MBR "0x1234abcd" or GPT GUID; empty: let sfdisk make one
  uint64_t sector_size = 512;
  std::vector<TableEntry> entries;
  bool operator==(const Table&) const = default;
};

}  // namespace ka::layout
