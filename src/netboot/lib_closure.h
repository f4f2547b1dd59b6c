// Shared-library closure of ELF binaries, and where those files go in a netboot
// image. `ldd` (run through the os::Env seam) lists every library a binary loads,
// directly or not; the image keeps every file under /usr ("/lib/x86_64-linux-gnu/
// libc.so.6" -> "/usr/lib/x86_64-linux-gnu/libc.so.6"), with /lib -> usr/lib and
// /lib64 -> usr/lib64 symlinks in stage1.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "os/env.h"
#include "util/status.h"

namespace ka::netboot {

// True if `path` is an ELF file with a PT_DYNAMIC segment (needs libraries);
// false for a static ELF, a 32-bit ELF (grub's modules) or a script. Error if it
// cannot be read.
Result<bool> IsDynamicElf(const std::string& path);

// Library paths from `ldd` output: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x..)"
// and "/lib64/ld-linux-x86-64.so.2 (0x..)" lines; the vDSO is skipped. A "not found"
// library is an error naming it.
Result<std::vector<std::string>> ParseLddOutput(const std::string& binary, const std::string& text);

// Every library the dynamic binaries among `binaries` need (host paths as ldd
// prints them, sorted, deduplicated). Static binaries and scripts need none.
Result<std::set<std::string>> LibraryClosure(os::Env& runner, const std::vector<std::string>& binaries);

// The path a host file gets inside the image: under /usr ("/sbin/mke2fs" ->
// "/usr/sbin/mke2fs", "/usr/bin/ka" unchanged). Absolute paths only.
std::string UsrPath(const std::string& host_path);

}  // namespace ka::netboot
