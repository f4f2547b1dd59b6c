// The two texts ka exchanges with sfdisk: the input script that writes a Table, and
// sfdisk --json output read back into a Table.
#pragma once

#include <string>

#include "layout/table.h"
#include "util/status.h"

namespace ka::layout {

// An sfdisk script that writes exactly `table` on `disk`: explicit start, size and
// type per partition (sectors), numbered through the partition device names.
std::string SfdiskScript(const Table& table, const std::string& disk);

// Parses `sfdisk --json DISK`. Entries come sorted by partition number.
Result<Table> ParseSfdiskJson(const std::string& json);

}  // namespace ka::layout
