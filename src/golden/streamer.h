// Produces the clone stream of an inspected golden: one tree section per
// filesystem copied file by file (pax archive + zstd, see tree_writer.h), one
// raw section per partition copied block for block (zstd), then FINISH.
#pragma once

#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

#include "format/stream_format.h"
#include "golden/inspect.h"
#include "golden/tree_writer.h"

namespace ka::golden {

struct StreamOptions {
  int zstd_level = 3;    // ka serve resolves 0 (auto) with golden/zstd_tuning before streaming
  int zstd_threads = 0;  // 0: compress in the streaming thread; >0: zstd workers
  int link_mbit = 0;     // for the automatic level: the link's speed (0: the local interfaces')
};

struct SectionStats {
  int partition = 0;
  std::string kind;
  uint64_t entries = 0;     // tree: archive entries
  uint64_t data_bytes = 0;  // bytes of file data (tree) or of the partition (raw) read
  uint64_t wire_bytes = 0;  // compressed bytes in the stream
  double seconds = 0;
  // A running golden: files that changed while they were read (TreeWriteStats).
  uint64_t changed_count = 0;
  std::vector<ChangedEntry> changed;  // paths as on the golden ("/var/log/syslog")
};

// Filled while streaming; read after the stream ended.
struct StreamStats {
  std::mutex mu;
  std::vector<SectionStats> sections;
  uint64_t stream_bytes = 0;  // whole clone stream (records included)
  nlohmann::json ToJson();
  // {"count": N, "listed": [{"partition", "path", "what"}...]}: what changed while it was copied.
  nlohmann::json ChangedJson();
  uint64_t ChangedCount();
};

Status StreamGolden(const Golden& golden, const StreamOptions& options, const format::ByteSink& sink, StreamStats* stats);

}  // namespace ka::golden
