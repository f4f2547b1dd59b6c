// efibootmgr's listing of the UEFI boot entries, parsed with bounds (it is what the
// node's firmware variables say, which a previous system may have filled).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/status.h"

namespace ka::node {

struct EfiBootEntry {
  uint16_t number = 0;
  bool active = false;
  std::string label;
};

struct EfiBootState {
  std::vector<uint16_t> order;  // BootOrder
  std::vector<EfiBootEntry> entries;
};

// efibootmgr's listing ("BootOrder: 0001,0000", "Boot0003* label<TAB>path"). Other lines are
// ignored; a malformed Boot or BootOrder line, over 4096 entries or a line over 64 KiB is
// an error.
Result<EfiBootState> ParseEfibootmgr(const std::string& text);

}  // namespace ka::node
