// libFuzzer target: InspectPeSignature on an arbitrary file (`ka netboot build --secure-boot`
// reads the stage1 kernel, which comes from a package or --kernel-deb). Never a crash or a
// read outside the input; an accepted certificate table lies inside the input.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "netboot/pe_signature.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto info = ka::netboot::InspectPeSignature(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!info.ok()) return 0;
  if (info->Signed() && uint64_t{info->cert_offset} + info->cert_size > size) std::abort();
  if (info->certificates > 64) std::abort();
  return 0;
}
