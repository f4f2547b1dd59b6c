// What an initramfs image already holds, read without running anything: the
// file is one or more cpio archives (newc) one after the other, the first ones
// usually uncompressed (early microcode), the last one compressed (gzip, xz,
// zstd, lz4, bzip2, lzma: whatever libarchive reads). ListInitramfs returns every
// path in all of them; InitramfsModules the kernel modules among them.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "util/status.h"

namespace ka::node {

// Every path of every archive in the image, in order ("usr/lib/modules/6.1.0-50-amd64/kernel/drivers/nvme/host/nvme.ko").
Result<std::vector<std::string>> ListInitramfsData(const std::string& data);
Result<std::vector<std::string>> ListInitramfs(const std::string& path);

// The names of the kernel modules (*.ko, *.ko.xz, *.ko.zst, *.ko.gz under
// lib/modules/ or usr/lib/modules/), '-' written '_' as modprobe does.
std::set<std::string> InitramfsModules(const std::vector<std::string>& paths);

// "nvme-core" -> "nvme_core".
std::string ModuleName(const std::string& name);

}  // namespace ka::node
