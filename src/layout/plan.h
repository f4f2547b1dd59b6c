// Turns a Layout into an exact partition table for one disk (starts and sizes in
// sectors, 1 MiB aligned, fills resolved), refusing anything that does not fit.
#pragma once

#include <cstdint>

#include "layout/layout.h"
#include "layout/table.h"
#include "util/status.h"

namespace ka::layout {

// First and last sector a partition may use on a disk of this geometry and label
// (MBR: from 1 MiB to the end or 2 TiB; GPT: between the primary and backup tables).
struct UsableRange {
  uint64_t first = 0;      // where default placement starts (1 MiB)
  uint64_t last = 0;
  uint64_t min_start = 0;  // lowest explicit start= (MBR: 1, as old 63-sector layouts had)
  uint64_t grain = 2048;   // sectors per alignment unit (1 MiB)
};
Result<UsableRange> UsableSectors(TableLabel label, const Geometry& g);

struct Plan {
  Layout layout;
  Geometry geometry;
  UsableRange range;
  Table table;  // table.entries[i] realises layout.partitions[i]
};

// Validates the layout (CheckLayout) and places every partition on the disk:
// default placement follows sfdisk's (each partition at the next 1 MiB boundary,
// logical partitions 1 MiB after the previous one for their EBR), a fill takes
// what the others leave at its level, N% is N percent of the whole disk.
// Errors name the desc line and the reason ("does not fit: ...").
Result<Plan> PlanLayout(const Layout& layout, const Geometry& geometry);

// Sectors of a size or start; fill and percentages need the geometry.
Result<uint64_t> SpecToSectors(const SizeSpec& spec, const Geometry& g);

}  // namespace ka::layout
