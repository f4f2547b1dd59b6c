// Produces the clone stream of an inspected golden: one tree section per
// filesystem copied file by file (pax archive + zstd, see tree_writer.h), one
// raw section per partition copied block for block (zstd), then FINISH.
#pragma once

#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

#include "golden/inspect.h"
#include "golden/stream_format.h"

namespace ka::golden {

struct StreamOptions {
  int zstd_level = 3;
  int zstd_threads = 0;
};

struct SectionStats {
  int partition = 0;
  std::string kind;
  uint64_t entries = 0;     // tree: archive entries
  uint64_t data_bytes = 0;  // bytes of file data (tree) or of the partition (raw) read
  uint64_t wire_bytes = 0;  // compressed bytes in the stream
  double seconds = 0;
};

// Filled while streaming; read after the stream ended.
struct StreamStats {
  std::mutex mu;
  std::vector<SectionStats> sections;
  uint64_t stream_bytes = 0;  // whole clone stream (records included)
  nlohmann::json ToJson();
};

Status StreamGolden(const Golden& golden, const StreamOptions& options, const ByteSink& sink, StreamStats* stats);

}  // namespace ka::golden
