// `ka netboot build`: everything nodes need to network-boot and clone themselves,
// from Debian packages only, into one output directory (layout in
// docs/netboot-build.md): PXE/iPXE loaders (with --secure-boot also Debian's
// signed shim and network GRUB, the kernel required to be signed), Debian's kernel, the stage1
// initramfs, stage2 and build.json (sources, package versions, sha256 and size of
// every artefact). Validates up front, builds into DIR.tmp and renames it at the
// end, so a failed build leaves no half-written DIR.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "os/env.h"
#include "util/status.h"

namespace ka::netboot {

struct BuildOptions {
  std::string output;                      // DIR
  std::string cache_dir = "/var/cache/ka/netboot";
  std::string kernel_deb;                  // given .deb, or "" to use Debian's current kernel
  std::string ka_binary;                   // "" : the running executable
  std::vector<std::string> extra_modules;
  bool force = false;                      // replace a non-empty DIR
  bool secure_boot = false;                // also shimx64.efi + grubx64.efi for Secure Boot UEFI machines
  int64_t mtime = 0;                       // of every entry; SOURCE_DATE_EPOCH or 0
};

struct BuildSummary {
  std::string kernel_version;
  uint64_t stage1_bytes = 0;
  uint64_t stage2_bytes = 0;
  size_t modules = 0;
};

// SOURCE_DATE_EPOCH from the environment if set (a non-negative integer), else 0.
Result<int64_t> SourceDateEpoch();

Result<BuildSummary> BuildNetboot(os::Env& runner, const BuildOptions& options);

}  // namespace ka::netboot
