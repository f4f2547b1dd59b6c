// Reads a real disk or disk image into a Layout: its table (sfdisk --json) plus
// the filesystem type, UUID and label blkid finds in each partition.
#pragma once

#include <string>

#include "layout/from_table.h"
#include "layout/layout.h"
#include "layout/table.h"
#include "os/env.h"
#include "util/status.h"

namespace ka::layout {

struct DescribeOptions {
  FromTableOptions table;
  bool probe_filesystems = true;
};

struct Description {
  os::DiskInfo disk;
  Table table;    // as read, entries sorted by number
  Layout layout;  // applies back to `table` on a disk of the same or larger size
};

// Mount points are not known from a disk and stay empty. Errors: Invalid when the
// disk has no (supported) partition table, Io when a tool fails.
Result<Description> DescribeDisk(os::Env& ops, const std::string& disk, const DescribeOptions& options = {});

}  // namespace ka::layout
