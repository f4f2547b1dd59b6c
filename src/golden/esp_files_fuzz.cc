// libFuzzer target: ParseMdirListing of arbitrary text (mtools' listing of the golden's EFI
// system partition, whose names come from the image). Never a crash; every accepted path is
// one format::Manifest accepts back (under /EFI/, bounded, no control character), and
// there are at most format::kMaxEspFiles.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "format/manifest.h"
#include "golden/esp_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto files = ka::golden::ParseMdirListing(text);
  if (files.size() > ka::format::kMaxEspFiles) std::abort();
  nlohmann::json boot = {{"esp_files", files}};
  nlohmann::json m = {{"version", 1},         {"desc", ""},
                      {"golden_disk", 0},     {"partitions", nlohmann::json::array()},
                      {"bootloader", "none"}, {"boot", boot}};
  auto back = ka::format::Manifest::FromJson(m);
  if (!back.ok() || back->boot.esp_files != files) std::abort();
  return 0;
}
