// The /dev names a udev system gives a disk and its partitions, for systems
// without udev (the host that clones, ka's netboot stage1) and for the private
// /dev of a chroot: the block device nodes by their kernel names and the links
// disk/by-uuid, by-partuuid, by-label, by-partlabel and by-id, as systemd-udev's
// 60-persistent-storage.rules makes them (names escaped the same way). Distribution
// tools read these (Debian's grub-mkconfig writes root=UUID=... only when
// /dev/disk/by-uuid/UUID exists), so with them they write what they would write on
// the running golden. The links are computed without touching anything
// (UdevLinks); DescribeDiskNodes reads the disk through os::Env and sysfs.
#pragma once

#include <string>
#include <vector>

#include "layout/partitions.h"
#include "layout/table.h"
#include "os/env.h"
#include "util/status.h"

namespace ka::node {

struct BlockNode {
  std::string name;  // /dev/NAME: "sda", "nvme0n1p2", "loop5p6", "loop7" (an offset loop made by ka)
  unsigned major = 0, minor = 0;
  int number = 0;  // partition number; 0: the whole disk
  std::string fs_type, fs_uuid, fs_label;
  std::string partuuid, partlabel;  // of a partition: PARTUUID (lower case) and GPT name
  std::vector<std::string> by_id;   // disk/by-id names ("virtio-SERIAL", "nvme-MODEL_SERIAL-part2")
};

struct DevLink {
  std::string path;    // relative to /dev: "disk/by-uuid/6b61..."
  std::string target;  // relative to the link's directory: "../../sda1"
  bool operator==(const DevLink&) const = default;
};

// Every link, sorted by path: by-uuid (filesystem UUID), by-label, by-partuuid,
// by-partlabel, by-id, and block/MAJ:MIN -> ../NAME. A name claimed by two devices
// (two disks with the same filesystem UUID) goes to the first one.
std::vector<DevLink> UdevLinks(const std::vector<BlockNode>& nodes);

// udev's escaping of a name in a link: bytes outside [0-9A-Za-z#+-.:=@_] and
// valid UTF-8 become \xHH (so '/' is \x2f and a space \x20).
std::string UdevEscape(const std::string& s);

// PARTUUID of a table entry: the GPT partition GUID in lower case, or for MBR the
// disk id and the number in hex ("6b61676f-05"), as blkid and the kernel make it.
std::string PartUuidOf(const layout::Table& table, const layout::TableEntry& entry);

// by-id names of the whole disk SYSFS/class/block/DISK, as udev names them:
// virtio-SERIAL (virtio-blk with a serial), nvme-MODEL_SERIAL and nvme-WWID,
// ata-MODEL_SERIAL (libata disks: vendor "ATA", serial from VPD page 0x80),
// wwn-0xNAA (a naa. wwid); spaces become '_'. Loop and unknown disks: none.
std::vector<std::string> DiskIdNames(const std::string& sysfs, const std::string& disk_name);

// The disk `disk` (a block device; an image file gives no node) and the devices of
// its partitions `parts` (kernel partitions or offset loops, from ExposePartitions):
// names and device numbers from the nodes under /dev, filesystem ids from blkid
// (ops.ProbeFilesystem at each partition), PARTUUID/PARTLABEL from `table`.
Result<std::vector<BlockNode>> DescribeDiskNodes(os::Env& ops, const std::string& sysfs,
                                                 const os::DiskInfo& disk, const layout::Table& table,
                                                 const std::vector<layout::PartitionDevice>& parts);

// The same for a disk as the kernel exposes it (its table read with sfdisk, its
// partitions the kernel's): what `ka netboot dev-links` and `ka join --dev-links` use.
Result<std::vector<BlockNode>> DescribeKernelDisk(os::Env& ops, const std::string& sysfs,
                                                  const std::string& disk);

// Creates the links under DEV (directories 0755; a link already there with another
// target, or a stale one of the same names, is replaced). Returns the count made.
Result<int> WriteDevLinks(const std::string& dev_dir, const std::vector<DevLink>& links);

}  // namespace ka::node
