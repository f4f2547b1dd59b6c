// libFuzzer target: ParseStage1Params on an arbitrary kernel command line (set by whoever
// serves the PXE configuration). Never a crash; accepted values are within their ranges.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "netboot/stage1_params.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto p = ka::netboot::ParseStage1Params(std::string(reinterpret_cast<const char*>(data), size));
  if (!p.ok()) return 0;
  if (p->tries < 1 || p->tries > 1000 || p->delay < 0 || p->delay > 3600) std::abort();
  if (p->session.empty() || p->disk.empty()) std::abort();
  if (!p->boot_mac.empty() && p->boot_mac.size() != 17) std::abort();
  return 0;
}
