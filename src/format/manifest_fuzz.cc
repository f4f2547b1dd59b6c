// libFuzzer target: Manifest::FromJson of arbitrary JSON text (the clone manifest a node
// gets from the server in PREPARE). Never a crash or an exception; an accepted manifest
// has checked paths and reads back from its own ToJson unchanged.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "format/manifest.h"

namespace {

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "manifest_fuzz: %s\n", what);
  std::abort();
}

bool HasDotDot(const std::string& path) {
  return path == ".." || path.rfind("../", 0) == 0 || path.find("/../") != std::string::npos ||
         (path.size() >= 3 && path.compare(path.size() - 3, 3, "/..") == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ka::format::Manifest;
  auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  auto m = Manifest::FromJson(j);
  if (!m.ok()) return 0;
  for (const auto& p : m->partitions) {
    Check(p.mount.empty() || (p.mount[0] == '/' && !HasDotDot(p.mount) &&
                              p.mount.find('\0') == std::string::npos && p.mount.size() <= ka::format::kMaxManifestPath),
          "an unchecked mount point was accepted");
    for (const auto& e : p.exclude)
      Check(!e.empty() && e[0] != '/' && !HasDotDot(e) && e.find('\0') == std::string::npos,
            "an unchecked excluded directory was accepted");
  }
  auto again = Manifest::FromJson(m->ToJson());
  Check(again.ok(), "a manifest's own JSON is refused");
  Check(again->ToJson() == m->ToJson(), "a manifest's own JSON reads back differently");
  return 0;
}
