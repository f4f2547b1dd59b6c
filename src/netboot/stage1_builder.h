// Stage1: the initramfs every node loads by TFTP. Busybox (static) with its applet
// links in /bin and /sbin, the ka binary at /usr/bin/ka with its libraries under
// /usr, the kernel modules for common network, storage and filesystem drivers with
// their dependencies (and a modules.dep made by depmod for that subset), /init and
// the udhcpc script (stage1_init.h), a minimal /etc, and /dev/console + /dev/null.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "netboot/initramfs_writer.h"
#include "netboot/kernel_package.h"
#include "netboot/module_set.h"
#include "os/env.h"

namespace ka::netboot {

struct Stage1Options {
  std::string ka_binary;             // host path of the ka executable
  std::string busybox = "/bin/busybox";
  std::vector<std::string> modules;  // names requested (DefaultStage1Modules() + extras)
  std::string staging_dir;           // scratch directory to assemble the tree (must not exist)
  InitramfsOptions initramfs;
};

struct Stage1Result {
  InitramfsStats stats;
  ModuleSelection modules;
  std::map<std::string, std::string> sources;  // image path -> host path
};

Result<Stage1Result> BuildStage1(os::Env& runner, const KernelPackage& kernel, const Stage1Options& options,
                                 const std::string& output);

}  // namespace ka::netboot
