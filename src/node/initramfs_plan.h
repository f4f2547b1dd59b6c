// Whether a clone's initramfs must be rebuilt on this node, and why: only when the
// node needs a kernel module to reach its disk that the image's initramfs does not
// hold (or the image has no initramfs for a kernel). The modules come from the
// drivers the node really uses for its disk (drivers.h: the bound driver of every
// device from the disk up to its controller) translated into the golden kernel's
// modules (its modules.dep, modules.builtin and modules.alias), with their
// dependencies; what the initramfs holds is read from the image itself
// (initramfs_contents.h). Nothing runs; everything is read inside ROOT.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "node/drivers.h"
#include "util/status.h"

namespace ka::node {

// One kernel of the image: its loadable modules with their dependencies, its
// built-in ones and its aliases (names '-' -> '_').
struct KernelModules {
  std::string kernel;
  std::map<std::string, std::vector<std::string>> deps;  // module -> modules it needs
  std::set<std::string> builtin;
  std::string aliases;  // the text of modules.alias
  bool Has(const std::string& module) const { return deps.count(module) > 0; }
};
// ROOT/lib/modules/KERNEL/modules.dep, modules.builtin (optional), modules.alias.
Result<KernelModules> ReadKernelModules(const std::string& root, const std::string& kernel);
// Parses the two index files (for tests and ReadKernelModules).
KernelModules ParseKernelModules(const std::string& kernel, const std::string& modules_dep,
                                 const std::string& modules_builtin, const std::string& modules_alias);

// The loadable modules of `k` the node needs to reach its disk, dependencies
// included, sorted. For each device of hw.storage_chain with a bound driver: that
// driver's module when `k` has it; else (the driver is built into the running
// kernel, or named otherwise) the modules of `k` whose aliases match the device's
// modalias; nothing when `k` has it built in. Devices without a driver are left
// out: the node reaches its disk without them.
Result<std::vector<std::string>> DiskModules(const NodeHardware& hw, const KernelModules& k);

// Where each tool keeps the initramfs of kernel K (in the image):
// /boot/initrd.img-K (initramfs-tools), /boot/initramfs-K.img (dracut), /boot/initrd-K.img (mkinitrd).
std::string InitramfsImagePath(InitramfsKind kind, const std::string& kernel);

struct InitramfsCheck {
  std::string kernel;
  std::string image;                 // path in the image
  bool image_exists = false;
  std::vector<std::string> needed;   // DiskModules
  std::vector<std::string> missing;  // needed, not in the image
  bool rebuild() const { return !image_exists || !missing.empty(); }
  // One line for the log: why it is rebuilt, or why not.
  std::string Explain(const std::string& disk) const;
};

// Compares, for kernel `kernel` of the image under ROOT.
Result<InitramfsCheck> CheckInitramfs(const std::string& root, InitramfsKind kind, const std::string& kernel,
                                      const NodeHardware& hw);

// initramfs-tools' MODULES= setting in ROOT (initramfs.conf, then conf.d/* in
// order, the last one wins; "most" when none).
std::string InitramfsToolsModulesSetting(const std::string& root);

}  // namespace ka::node
