// Reads a partition table back into a Layout: the reverse of PlanLayout, writing
// start= and number= only where the default placement would differ.
#pragma once

#include <vector>

#include "layout/layout.h"
#include "layout/table.h"
#include "util/status.h"

namespace ka::layout {

struct FromTableOptions {
  // Write "fill" for the last partition of a level when it reaches the end of that
  // level, so that a larger disk gives it the extra space (default: exact sizes).
  bool fill_last = false;
  // Write the disk id and the GPT partition UUIDs, so that a copy has the same ones
  // (fstab and boot loaders may name PARTUUIDs); false: copies get new ones.
  bool keep_ids = true;
};

// The table's entries in the order of desc lines: by number, MBR primary and extended
// partitions first, then the logical ones (what LayoutFromTable writes line by line).
std::vector<TableEntry> EntriesInLineOrder(const Table& table);

// The Layout that PlanLayout turns into `table` again on a disk of geometry `g`.
// Sizes are whole MiB (GiB when exact) or sectors ("s") when not a whole MiB.
// Filesystem fields are left empty (describe.h fills them in).
Result<Layout> LayoutFromTable(const Table& table, const Geometry& g, const FromTableOptions& options = {});

}  // namespace ka::layout
