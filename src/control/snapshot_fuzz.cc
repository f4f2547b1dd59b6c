// libFuzzer target: a session snapshot as `ka status` gets it from the server (arbitrary
// JSON text) read by ReadSnapshot and printed by RenderStatusTable / RenderFinalSummary.
// Never a crash or an exception, and the printed text is valid UTF-8 without control
// characters other than newlines (no terminal escapes from a node's name or message).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "control/snapshot.h"
#include "control/status_table.h"
#include "control/text.h"

namespace {

void CheckPrintable(const std::string& out, const char* what) {
  std::string flat = out;
  for (char& c : flat)
    if (c == '\n') c = ' ';
  if (ka::control::SanitizeText(flat) == flat) return;
  std::fprintf(stderr, "snapshot_fuzz: %s printed unsafe text:\n%s\n", what, out.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ka::control;
  auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  SnapshotView v = ReadSnapshot(j);
  (void)v.OverallBytes();
  (void)v.FailedCount();
  for (const NodeView& n : v.nodes) {
    (void)n.Message();
    (void)FormatPercent(Percent(n.bytes, v.total_bytes));
    (void)FormatRate(n.rate_bps);
    (void)FormatEta(n.eta_s);
  }
  (void)FormatElapsed(v.elapsed);
  CheckPrintable(RenderStatusTable(j), "RenderStatusTable");
  CheckPrintable(RenderFinalSummary(j), "RenderFinalSummary");
  return 0;
}
