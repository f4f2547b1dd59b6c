// libFuzzer target: ParseServeConfig on arbitrary text (ka serve --config FILE). Never a
// crash; settings have a key without '_' and come in line order.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cli/serve_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto settings = ka::cli::ParseServeConfig(std::string(reinterpret_cast<const char*>(data), size), "fuzz.conf");
  if (!settings.ok()) return 0;
  int line = 0;
  for (const auto& s : *settings) {
    if (s.key.empty() || s.key.find('_') != std::string::npos || s.line <= line) std::abort();
    line = s.line;
  }
  return 0;
}
