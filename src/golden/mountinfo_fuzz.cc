// libFuzzer target: ParseMountInfo on arbitrary text (/proc/self/mountinfo, whose mount
// points and sources anyone who can mount something chooses). Never a crash.
#include <cstdint>
#include <string>

#include "golden/mountinfo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ka::golden;
  auto entries = ParseMountInfo(std::string(reinterpret_cast<const char*>(data), size));
  if (!entries.ok()) return 0;
  for (const MountEntry& e : *entries) (void)e.read_only();
  return 0;
}
