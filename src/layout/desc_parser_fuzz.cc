// libFuzzer target: ParseDesc on arbitrary text (a desc comes from the golden in the clone
// manifest, or from the operator). It must never crash, and a desc it accepts must write
// back (WriteDesc) to text that parses to the same layout.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "layout/desc_parser.h"
#include "layout/desc_writer.h"

namespace {

void Fail(const char* what, const std::string& written) {
  std::fprintf(stderr, "desc_parser_fuzz: %s\n--- written desc ---\n%s\n", what, written.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ka::layout;
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)ParseSizeSpec(text);
  auto layout = ParseDesc(text);
  if (!layout.ok()) return 0;
  for (auto& p : layout->partitions) p.line = 0;
  const std::string written = WriteDesc(*layout);
  auto back = ParseDesc(written);
  if (!back.ok()) Fail(("the written desc does not parse: " + back.status().message()).c_str(), written);
  for (auto& p : back->partitions) p.line = 0;
  if (!(*back == *layout)) Fail("the written desc parses to another layout", written);
  return 0;
}
