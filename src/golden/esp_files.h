// The EFI executables on the golden's EFI system partition, so that nodes can decide in
// PREPARE whether a block-for-block copy of it boots as it is (EFI/BOOT/BOOTX64.EFI) and
// which loader a UEFI boot entry starts. A mounted ESP is read as a directory; a
// block-copied one (the kernel cannot mount vfat) through mtools' mdir, in userspace.
#pragma once

#include <string>
#include <vector>

#include "os/env.h"
#include "util/status.h"

namespace ka::golden {

// mdir -/ -b's listing ("::/EFI/BOOT/BOOTX64.EFI", directories end with '/'): the files
// under /EFI whose names end in .efi (any case), as "/EFI/BOOT/BOOTX64.EFI"; paths that
// format::Manifest would refuse (control characters, over 255 bytes) are skipped; at
// most format::kMaxEspFiles.
std::vector<std::string> ParseMdirListing(const std::string& text);

// The same from a mounted ESP at `dir` (EFI/ and one level of vendor directories).
std::vector<std::string> EspFilesInDir(os::Env& env, const std::string& dir);

// From the ESP's device (read only) with mdir; Invalid when mtools is missing.
Result<std::vector<std::string>> EspFilesOnDevice(os::Env& env, const std::string& device);

}  // namespace ka::golden
