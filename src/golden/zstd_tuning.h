// Chooses the clone stream's zstd level and worker threads by measurement: a
// sample of the golden's files is compressed at a few levels on this machine,
// and the level that gets the stream through the link soonest wins (the
// highest level whose compression still outruns the link, as long as fewer
// bytes on the wire pay for the extra CPU).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "golden/inspect.h"
#include "util/status.h"

namespace ka::golden {

// One level measured on one core: input MiB/s and compressed/input size ratio.
struct LevelSample {
  int level = 0;
  double mib_s = 0;
  double ratio = 1;
};

struct ZstdChoice {
  int level = 3;
  int threads = 1;
  double link_mib_s = 0;  // what the choice assumed for the link
  std::string why;        // one line for the log and the report
};

// Pure: the level whose stream time max(compress, link) is least for one MiB of
// input, `threads` compressing in parallel (at 85 % efficiency each beyond the
// first); within 3 % of the best, the lowest level (the golden's CPU is not free).
// An empty sample list gives level 3.
ZstdChoice ChooseZstdLevel(const std::vector<LevelSample>& samples, int threads, double link_mib_s);

// Whether compression at this level makes fewer wire bytes per second than the link carries.
bool SlowerThanTheLink(const LevelSample& s, int threads, double link_mib_s);

// Compresses `sample` once at each level (one thread) and times it.
std::vector<LevelSample> MeasureZstdLevels(std::string_view sample, const std::vector<int>& levels);

// Up to max_bytes of the golden's data: the first 256 KiB of regular files of
// each copied filesystem, in directory order, then raw partitions' first bytes.
std::string SampleGolden(const Golden& golden, size_t max_bytes);

// The fastest link of this machine in MiB/s (/sys/class/net/*/speed of the
// interfaces that are up, loopback excepted), 0 if none says.
double LocalLinkMibPerSecond(os::Env& env);

// Fills in the automatic settings: level 0 = measured (above), threads < 0 =
// one per CPU; link_mbit 0 = LocalLinkMibPerSecond(golden.env()), else 1 Gbit/s.
ZstdChoice ResolveZstd(const Golden& golden, int level, int threads, int link_mbit);

}  // namespace ka::golden
