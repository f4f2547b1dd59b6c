// libFuzzer target: a session snapshot as `ka status` gets it from the server (arbitrary
// JSON text) read by ReadSnapshot and printed by RenderStatusTable / RenderFinalSummary.
// Never a crash or an exception, and the printed text is valid UTF-8 without control
// characters other than newlines (no terminal escapes from a node's name or message).
// The same snapshot read with raw text (ReadOptions) has the same nodes and failures, and
// RenderMetrics (which reads it so) prints only metric lines: no line injected by a name.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "control/metrics.h"
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

// Every line of /metrics is a HELP or TYPE line or a sample of a ka_ metric.
void CheckMetricLines(const std::string& out) {
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    std::string_view line(out.data() + start, (end == std::string::npos ? out.size() : end) - start);
    if (end == std::string::npos ||
        !(line.starts_with("# HELP ka_") || line.starts_with("# TYPE ka_") || line.starts_with("ka_"))) {
      std::fprintf(stderr, "snapshot_fuzz: RenderMetrics printed a bad line:\n%s\n", out.c_str());
      std::abort();
    }
    start = end + 1;
  }
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
  SnapshotView raw =
      ReadSnapshot(j, {.raw_text = true, .unknown_text = "", .snapshot_order = true, .zero_total_unknown = false});
  if (raw.nodes.size() != v.nodes.size() || raw.FailedCount() != v.FailedCount()) {
    std::fprintf(stderr, "snapshot_fuzz: raw text read other nodes\n");
    std::abort();
  }
  CheckMetricLines(RenderMetrics(j));
  CheckPrintable(RenderStatusTable(j), "RenderStatusTable");
  CheckPrintable(RenderFinalSummary(j), "RenderFinalSummary");
  return 0;
}
