// The rules a desc must follow whatever the disk: MBR/GPT constraints, extended and
// logical partitions, one fill per level, ESP and mount point sanity, numbering.
#pragma once

#include <vector>

#include "layout/layout.h"
#include "util/status.h"

namespace ka::layout {

// Ok, or Invalid naming the first offending desc line and the reason.
Status CheckLayout(const Layout& layout);

// The partition number of each partition (same order as layout.partitions):
// explicit number= or the next free one; MBR logical partitions get 5, 6, ...
Result<std::vector<int>> PartitionNumbers(const Layout& layout);

}  // namespace ka::layout
