#include "golden/clone_report.h"

namespace ka::golden {

nlohmann::json CloneReport(const format::Manifest& m, bool live, StreamStats& stats, const ZstdChoice& zstd,
                           uint64_t carried, uint64_t chunk, uint64_t header) {
  uint64_t used = m.used_bytes();
  uint64_t frames = chunk ? (carried + chunk - 1) / chunk : 0;
  uint64_t wire = carried + frames * header;  // payload + frame headers on every link
  double ratio = used ? static_cast<double>(wire) / static_cast<double>(used) : 0;
  return {{"golden", m.source},
          {"used_bytes", used},
          {"golden_disk_bytes", m.golden_disk},
          {"stream_bytes", carried},
          {"wire_bytes_per_link", wire},
          {"wire_to_used_ratio", ratio},
          {"sections", stats.ToJson()},
          {"zstd", {{"level", zstd.level}, {"threads", zstd.threads}, {"why", zstd.why}}},
          {"bootloader", m.bootloader},
          {"live", live},
          {"changed_during_copy", stats.ChangedJson()}};
}

}  // namespace ka::golden
