// Making the node's filesystems: which types ka makes, the checks done before
// anything runs (tool installed, kernel support, UUID and label formats, minimum
// size), and the mkfs commands themselves.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "os/env.h"
#include "util/status.h"

namespace ka::node {

struct FsSpec {
  std::string type;   // ext2 ext3 ext4 xfs btrfs vfat swap jfs reiserfs
  std::string uuid;   // empty: the tool makes one. RFC 4122 text; vfat: a volume id "1234-ABCD"
  std::string label;  // empty: none
  std::vector<std::string> extra;  // more options for the mkfs tool, before the device
};

// The type is known and the uuid and label have the form it accepts: ext* label
// <= 16 bytes, xfs <= 12, vfat <= 11 (ASCII, none of *?.,;:/\|+=<>[]"), swap, jfs
// and reiserfs <= 16, btrfs <= 255, no control characters; uuid 8-4-4-4-12 hex
// digits, vfat "XXXX-XXXX" hex. Runs nothing.
Status ValidateFsSpec(const FsSpec& spec);

// ValidateFsSpec, then: the mkfs tool is installed (the error names the Debian
// package), and for a mountable type the kernel has the filesystem: it is listed in
// `proc_filesystems_text` (the text of /proc/filesystems) or `modprobe TYPE` loads it.
Status CheckFsSupported(const FsSpec& spec, os::Env& runner, const std::string& proc_filesystems_text);

// The smallest partition the type's mkfs accepts (measured with the Debian 12
// tools): xfs 300 MiB, btrfs 109 MiB, reiserfs 32848 KiB, jfs 16 MiB, ext3/ext4
// 2 MiB (smaller ones get no journal), ext2 128 KiB, vfat 64 KiB, swap 40 KiB.
// 0 for an unknown type.
uint64_t MinFsBytes(const std::string& type);
Status CheckFsFits(const FsSpec& spec, uint64_t partition_bytes);

// The commands that make the filesystem on `device`, in order (jfs: jfs_mkfs, then
// jfs_tune -U for the uuid), tools by the absolute paths `runner` finds:
//   ext2/3/4  mkfs.extN -F -q [-U UUID] [-L LABEL] EXTRA DEVICE
//   xfs       mkfs.xfs -f -q [-m uuid=UUID] [-L LABEL] EXTRA DEVICE
//   btrfs     mkfs.btrfs -f -q [-U UUID] [-L LABEL] EXTRA DEVICE
//   vfat      mkfs.vfat [-i VOLID] [-n LABEL] EXTRA DEVICE      (VOLID: 1234ABCD)
//   swap      mkswap [-U UUID] [-L LABEL] EXTRA DEVICE
//   jfs       jfs_mkfs -q [-L LABEL] EXTRA DEVICE; jfs_tune -U UUID DEVICE
//   reiserfs  mkreiserfs -q [-u UUID] [-l LABEL] EXTRA DEVICE
Result<std::vector<std::vector<std::string>>> MkfsCommands(const FsSpec& spec, const std::string& device,
                                                           os::Env& runner);

// ValidateFsSpec, then runs MkfsCommands. Errors name the device and the failing command.
Status MakeFilesystem(const FsSpec& spec, const std::string& device, os::Env& runner);

}  // namespace ka::node
