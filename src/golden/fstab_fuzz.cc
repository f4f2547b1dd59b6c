// libFuzzer target: ParseFstab and ParseSpec on arbitrary text (the golden's /etc/fstab,
// read from the golden disk or image). Never a crash; every entry has its three fields.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "golden/fstab.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ka::golden;
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)ParseSpec(text);
  auto entries = ParseFstab(text);
  if (!entries.ok()) return 0;
  for (const FstabEntry& e : *entries) {
    if (e.spec.empty() || e.file.empty() || e.type.empty() || e.options.empty() || e.line < 1) std::abort();
    SpecMatch m = ParseSpec(e.spec);
    if (m.kind == SpecMatch::kPartitionNumber &&
        (m.value.empty() || m.value.find_first_not_of("0123456789") != std::string::npos))
      std::abort();
  }
  return 0;
}
