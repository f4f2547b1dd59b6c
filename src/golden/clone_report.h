// The `clone` object of a clone session's report (`ka serve --report`, report.json): what the
// golden held and what the chain carried, per section, with the compression chosen and the files
// that changed while they were read. Its keys are in docs/report.schema.json (`clone`).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "format/manifest.h"
#include "golden/streamer.h"
#include "golden/zstd_tuning.h"

namespace ka::golden {

// `carried`: the payload bytes the chain carried (the most any node received); `chunk`: the
// payload bytes per data frame, `header`: the bytes of a frame's header (chain::kHeaderSize), so
// that `wire_bytes_per_link` counts what each link of the chain carried.
nlohmann::json CloneReport(const format::Manifest& m, bool live, StreamStats& stats, const ZstdChoice& zstd,
                           uint64_t carried, uint64_t chunk, uint64_t header);

}  // namespace ka::golden
