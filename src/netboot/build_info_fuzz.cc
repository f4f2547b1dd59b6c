// libFuzzer target: ParseBuildUefiLoader on an arbitrary build.json (`ka netboot serve`
// reads it from the build directory). Never a crash; only the two loaders come out.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "netboot/build_info.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto l = ka::netboot::ParseBuildUefiLoader(std::string_view(reinterpret_cast<const char*>(data), size));
  if (l.ok() && *l != ka::netboot::UefiLoader::kIpxe && *l != ka::netboot::UefiLoader::kShim) std::abort();
  return 0;
}
