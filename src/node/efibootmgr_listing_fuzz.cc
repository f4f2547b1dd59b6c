// libFuzzer target: ParseEfibootmgr of arbitrary text (efibootmgr's listing of the firmware's
// boot entries, which an earlier system on the machine may have filled). Never a crash; an
// accepted listing stays within its bounds.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "node/efibootmgr_listing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto st = ka::node::ParseEfibootmgr(text);
  if (!st.ok()) return 0;
  if (st->entries.size() > 4096 || st->order.size() > 4096) std::abort();
  for (const auto& e : st->entries)
    if (e.label.size() > size) std::abort();
  return 0;
}
