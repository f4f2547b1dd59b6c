// The drivers a cloned system needs on this node's hardware (the seed's
// gen_modprobe_conf): the modaliases of the node's network cards and of its disk's
// controller chain, read from sysfs; the golden kernel's modules for them, from its
// modules.alias; and how to get those modules into the golden's initramfs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "os/env.h"
#include "util/status.h"

namespace ka::node {

// A device on the way from the disk up to the root of the device tree.
struct ChainDevice {
  std::string modalias;  // "" when it has none (a SCSI host, an NVMe controller's class device)
  std::string driver;    // the driver bound to it ("sd", "ahci", "virtio_blk"); "" if none
  std::string module;    // that driver's module ("sd_mod"); "" if built in or no driver
  bool operator==(const ChainDevice&) const = default;
};

struct NodeHardware {
  // (interface, modalias) of every network interface backed by a device (not lo,
  // bridges, bonds, tunnels, ...), by interface name.
  std::vector<std::pair<std::string, std::string>> network;
  // The modaliases on the way from the disk up to the root of the device tree
  // (e.g. scsi:t-0x00, then the AHCI controller's pci:...), disk first.
  std::vector<std::string> storage;
  // Every device on that way, disk first, with its bound driver: the drivers this
  // node really uses to reach its disk (a loop disk has none).
  std::vector<ChainDevice> storage_chain;
};

// Reads SYSFS/class/net/*/device/modalias and, walking up from
// SYSFS/class/block/DISK/device (a partition's disk when DISK is a partition), every
// modalias file and bound driver (driver -> .../drivers/NAME, driver/module ->
// .../module/MODULE) on the way. Missing pieces are skipped (a loop disk has no
// controller).
NodeHardware CollectHardware(os::Env& env, const std::string& sysfs_root, const std::string& disk_name);
// All of them, unique and sorted.
std::vector<std::string> CollectModaliases(os::Env& env, const std::string& sysfs_root, const std::string& disk_name);

// The modules whose `alias PATTERN MODULE` lines of modules.alias match one of the
// modaliases (fnmatch, as modprobe does), unique and sorted. Error: a malformed line.
Result<std::vector<std::string>> ResolveModules(const std::string& modules_alias_text,
                                                const std::vector<std::string>& modaliases);

struct NodeDrivers {
  std::vector<std::string> storage;                          // modules for the disk chain, in its order
  std::vector<std::pair<std::string, std::string>> network;  // (interface, module)
  std::vector<std::string> All() const;                      // unique, sorted
};
Result<NodeDrivers> ResolveDrivers(const std::string& modules_alias_text, const NodeHardware& hw);

// ROOT/lib/modules/KERNEL/modules.alias, read inside ROOT.
Result<std::string> ReadModulesAlias(const std::string& root, const std::string& kernel);

enum class InitramfsKind { kInitramfsTools, kDracut, kMkinitrd, kNone };
const char* InitramfsKindName(InitramfsKind kind);

struct InitramfsTool {
  InitramfsKind kind = InitramfsKind::kNone;
  std::string path;                  // the tool inside the image: /usr/sbin/update-initramfs
  std::vector<std::string> kernels;  // ROOT/lib/modules/* holding a modules.dep, sorted
};

// initramfs-tools (update-initramfs in /usr/sbin or /sbin, and /etc/initramfs-tools),
// else dracut (/usr/bin, /usr/sbin, /sbin), else mkinitrd (/sbin, /usr/sbin), else none.
Result<InitramfsTool> DetectInitramfsTool(const std::string& root);

// Makes the image's initramfs tool include the drivers:
//   initramfs-tools  appends the missing module names to /etc/initramfs-tools/modules
//   dracut           writes /etc/dracut.conf.d/90-ka.conf: add_drivers+=" ... "
//   mkinitrd         in /etc/modprobe.conf (seed style) replaces the golden's
//                    "alias scsi_hostadapterN" lines by the storage modules and its
//                    "alias ethN" lines by the network ones (ethN by interface order)
//   none             nothing
// Running it again with the same drivers changes nothing.
Status AddInitramfsModules(const std::string& root, const InitramfsTool& tool, const NodeDrivers& drivers);

// Rebuilds the initramfs of `kernels` inside ROOT (ChrootMounts must be active),
// EXTRA being the operator's --initramfs-options, one command per kernel K:
//   chroot ROOT update-initramfs -u -k K EXTRA     (-c when /boot/initrd.img-K is missing)
//   chroot ROOT dracut -f EXTRA /boot/initramfs-K.img K
//   chroot ROOT mkinitrd EXTRA -f /boot/initrd-K.img K
// Nothing for kNone or no kernels.
Status RebuildInitramfs(os::Env& runner, const std::string& root, const InitramfsTool& tool,
                        const std::vector<std::string>& kernels, const std::vector<std::string>& extra_args);

}  // namespace ka::node
