// The node's check of its own boot loader configuration (GRUB 2's grub.cfg) after
// the boot loader step: a clone boots only if its kernel command line names the
// root filesystem by something the clone keeps (UUID=, PARTUUID=, LABEL=, ...),
// as the golden's did, and never by a device name of the machine that made it
// (grub-mkconfig in a chroot falls back to the device path when it finds no
// /dev/disk/by-uuid link: root=/dev/loop0p6 boots nowhere). Pure text checks.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace ka::node {

// How a root= value names the root filesystem.
enum class RootKind { kUuid, kPartUuid, kLabel, kPartLabel, kDevicePath, kOther };
const char* RootKindName(RootKind kind);  // "UUID", "PARTUUID", "LABEL", "PARTLABEL", "device path", "other"
// UUID=..., /dev/disk/by-uuid/... -> kUuid (and so on); /dev/sda6, /dev/disk/by-id/...,
// /dev/disk/by-path/... -> kDevicePath (they name one machine's hardware);
// anything else (ZFS=..., /dev/mapper/..., 0801) -> kOther.
RootKind ClassifyRoot(const std::string& value);

struct KernelLine {
  int line = 0;      // 1-based
  std::string text;  // the line, trimmed
  std::string root;  // the value of its root= argument ("" when it has none)
};
// The `linux`, `linux16`, `linuxefi` and `kernel` lines of a GRUB configuration.
std::vector<KernelLine> KernelLines(const std::string& cfg);

// `clone_cfg` is the configuration the node generated (or kept) at `cfg_path`,
// `golden_cfg` the golden's (empty if it had none), `host_devices` the names of
// the devices the node cloned onto ("loop5", "loop5p6", "nvme0n1p2"). Fails,
// quoting the line, when the clone's configuration has no kernel line, a kernel
// line whose root= is missing, names a device path or differs in kind or value
// from the golden's, or when any non-comment line names /dev/HOST_DEVICE. When
// the golden itself named its root by device path the message says so and what
// to change on the golden.
Status CheckBootConfig(const std::string& golden_cfg, const std::string& clone_cfg, const std::string& cfg_path,
                       const std::vector<std::string>& host_devices);

}  // namespace ka::node
