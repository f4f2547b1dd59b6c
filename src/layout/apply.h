// Writes a Layout onto a disk: plans and validates everything first (nothing is
// written on any error), then wipes old signatures, writes the table with sfdisk,
// checks it, and exposes the partitions as block devices.
#pragma once

#include <string>
#include <vector>

#include "layout/partitions.h"
#include "layout/plan.h"
#include "os/env.h"
#include "util/status.h"

namespace ka::layout {

struct ApplyOptions {
  bool dry_run = false;  // plan and check only
  ExposeMode expose = ExposeMode::kAuto;
};

struct ApplyResult {
  os::DiskInfo disk;
  Plan plan;
  std::string script;                    // the sfdisk script (written, or that would be)
  std::vector<PartitionDevice> devices;  // empty on a dry run
};

// Errors: Invalid for a layout that is wrong or does not fit this disk (desc line
// and reason), Refused when the disk is in use, Io when a tool fails. Before the
// first write the disk is untouched; sfdisk also checks the script (--no-act) first.
Result<ApplyResult> ApplyLayout(os::Env& ops, const std::string& disk, const Layout& layout,
                                const ApplyOptions& options);

}  // namespace ka::layout
