// The UEFI boot entry of a clone: on a node that runs in UEFI mode, after the bootloader
// is on the ESP, ka removes the entries an earlier clone left ("ka clone: ..." labels),
// adds one for the loader the clone's ESP now holds (shim when there is one) and puts it
// first in BootOrder (or last: the network stays first and the per-MAC netboot choice
// decides). efibootmgr does the work; its listing is parsed here, bounded.
#pragma once

#include <string>
#include <vector>

#include "node/efibootmgr_listing.h"
#include "os/env.h"
#include "util/status.h"

namespace ka::node {

inline constexpr const char* kEfiEntryPrefix = "ka clone";

// The loader an entry should start, from the EFI executables on the ESP (paths from its
// root, as "/EFI/debian/shimx64.efi"): a vendor directory's shimx64.efi, else its
// grubx64.efi, else /EFI/BOOT/BOOTX64.EFI (case-insensitive); "" when none.
std::string ChooseEfiLoader(const std::vector<std::string>& esp_files);

// "/EFI/debian/shimx64.efi" -> "\EFI\debian\shimx64.efi"
std::string EfiPath(const std::string& esp_path);

// The label of the entry for `loader`: "ka clone: debian" (its vendor directory).
std::string EfiEntryLabel(const std::string& loader);

// BootOrder with `entry` moved first (or last).
std::vector<uint16_t> OrderWith(const std::vector<uint16_t>& order, uint16_t entry, bool last);

// Removes the stale ka entries, creates the one for `loader` on partition `part` of `disk`
// and sets BootOrder, through `efibootmgr` (the node's tool).
Status WriteEfiEntry(os::Env& env, const std::string& efibootmgr, const std::string& disk, int part,
                     const std::string& loader, bool last);

}  // namespace ka::node
