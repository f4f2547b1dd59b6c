// libFuzzer target: ExpandHostname of an arbitrary template (the server's --hostname-template,
// which reaches the nodes in the clone manifest) with an arbitrary identity. Never a crash;
// whatever it returns is a valid hostname.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "node/identity.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  ka::node::Identity id;
  id.index = in.ConsumeIntegral<int>();
  id.name = in.ConsumeRandomLengthString(80);
  id.mac = in.ConsumeRandomLengthString(40);
  id.ip = in.ConsumeRandomLengthString(60);
  const std::string tmpl = in.ConsumeRemainingBytesAsString();
  auto host = ka::node::ExpandHostname(tmpl, id);
  if (host.ok() && !ka::node::ValidateHostname(*host).ok()) {
    std::fprintf(stderr, "identity_fuzz: '%s' expanded to the invalid hostname '%s'\n", tmpl.c_str(), host->c_str());
    std::abort();
  }
  return 0;
}
