// The golden's /etc/fstab: which filesystem is mounted where. The seed's
// ka-d.sh read the mount points from it; so do we, to know which partition is
// /, /boot, /home... and to give the nodes the same mount points.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace ka::golden {

struct FstabEntry {
  std::string spec;     // UUID=..., LABEL=..., /dev/sda1, ...
  std::string file;     // mount point ("none" or "swap" for swap)
  std::string type;     // ext4, swap, ...
  std::string options;
  int line = 0;
};

// Parses fstab text (comments, blank lines, tabs, octal escapes like \040).
// Malformed lines (fewer than 3 fields) are an Invalid error naming the line.
Result<std::vector<FstabEntry>> ParseFstab(const std::string& text);

// What a spec designates, to match it against a partition.
struct SpecMatch {
  enum Kind { kUuid, kLabel, kPartUuid, kPartLabel, kPartitionNumber, kUnknown } kind = kUnknown;
  std::string value;  // the UUID/label (lowercased UUIDs) or the partition number
};
// UUID=, LABEL=, PARTUUID=, PARTLABEL=, /dev/disk/by-{uuid,label,partuuid,partlabel}/X,
// and kernel names /dev/sda6, /dev/vda1, /dev/hda2, /dev/xvda3, /dev/nvme0n1p2,
// /dev/mmcblk0p1 (matched by partition number).
SpecMatch ParseSpec(const std::string& spec);

}  // namespace ka::golden
