// KernelPackage: Debian's kernel for the netboot image, never the host's. Finds
// the package linux-image-amd64 currently depends on (apt-cache depends), reuses
// its .deb from the cache directory or downloads it there (apt-get download), or
// takes a given .deb (offline builds); extracts it (dpkg-deb -x) and runs
// `depmod -b` on the extracted tree for modules.dep/modules.alias.
#pragma once

#include <string>

#include "os/env.h"
#include "util/status.h"

namespace ka::netboot {

struct KernelPackage {
  std::string deb;              // the .deb used
  std::string package;          // "linux-image-6.1.0-56-amd64"
  std::string package_version;  // "6.1.192-2"
  std::string version;          // kernel release: "6.1.0-56-amd64"
  std::string root;             // extracted tree
  std::string vmlinuz() const { return root + "/boot/vmlinuz-" + version; }
  std::string config() const { return root + "/boot/config-" + version; }
  std::string modules_dir() const { return root + "/lib/modules/" + version; }
};

// "linux-image-6.1.0-56-amd64" from `apt-cache depends linux-image-amd64` output.
Result<std::string> ParseKernelDependency(const std::string& apt_cache_depends_output);

// The .deb to use: `kernel_deb` if given, else the current kernel package's .deb in
// `cache_dir` (downloaded there if missing).
Result<std::string> FindKernelDeb(os::Env& runner, const std::string& kernel_deb, const std::string& cache_dir);

// Extracts `deb` into `dir` (which must not exist yet) and runs depmod there.
Result<KernelPackage> ExtractKernel(os::Env& runner, const std::string& deb, const std::string& dir);

}  // namespace ka::netboot
