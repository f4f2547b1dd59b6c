#include "golden/zstd_tuning.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "util/fd.h"
#include "util/log.h"

namespace ka::golden {

namespace fs = std::filesystem;

namespace {

constexpr double kParallelEfficiency = 0.85;
constexpr double kCloseEnough = 1.03;
constexpr size_t kPerFile = 256 * 1024;
constexpr double kMeasureBudgetSeconds = 1.0;

double Parallel(int threads) { return 1 + (std::max(1, threads) - 1) * kParallelEfficiency; }

// Appends up to `want` bytes of the file at `path` (no symlinks, no devices).
void ReadSome(const std::string& path, size_t want, std::string* out) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOATIME));
  if (!fd.valid()) fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd.valid()) return;
  size_t at = out->size();
  out->resize(at + want);
  size_t got = 0;
  while (got < want) {
    ssize_t k = ::read(fd.get(), out->data() + at + got, want - got);
    if (k <= 0) break;
    got += static_cast<size_t>(k);
  }
  out->resize(at + got);
}

}  // namespace

ZstdChoice ChooseZstdLevel(const std::vector<LevelSample>& samples, int threads, double link_mib_s) {
  ZstdChoice c;
  c.threads = std::max(1, threads);
  c.link_mib_s = link_mib_s;
  if (samples.empty() || link_mib_s <= 0) {
    c.why = "no measurement: level 3";
    return c;
  }
  double parallel = Parallel(c.threads);
  // Seconds per MiB of input: compression (all threads) or the link, whichever is slower.
  auto cost = [&](const LevelSample& s) {
    double compress = s.mib_s > 0 ? 1.0 / (s.mib_s * parallel) : 1e9;
    return std::max(compress, s.ratio / link_mib_s);
  };
  double best = 1e18;
  for (const auto& s : samples) best = std::min(best, cost(s));
  const LevelSample* pick = nullptr;
  for (const auto& s : samples)
    if (cost(s) <= best * kCloseEnough && (!pick || s.level < pick->level)) pick = &s;
  c.level = pick->level;
  double compress_out = pick->mib_s * parallel * pick->ratio;  // wire MiB/s the compressor makes
  c.why = fmt::format("level {} with {} thread(s): compresses to {:.0f}% at {:.0f} MiB/s per thread, {} the link ({:.0f} "
                      "MiB/s)",
                      c.level, c.threads, 100.0 * pick->ratio, pick->mib_s,
                      compress_out >= link_mib_s ? "fills" : "slower than", link_mib_s);
  return c;
}

bool SlowerThanTheLink(const LevelSample& s, int threads, double link_mib_s) {
  return s.mib_s * Parallel(threads) * s.ratio < link_mib_s;
}

std::vector<LevelSample> MeasureZstdLevels(std::string_view sample, const std::vector<int>& levels) {
  std::vector<LevelSample> out;
  if (sample.empty()) return out;
  std::string buf(ZSTD_compressBound(sample.size()), '\0');
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  if (!cctx) return out;
  for (int level : levels) {
    auto t0 = std::chrono::steady_clock::now();
    size_t n = ZSTD_compressCCtx(cctx, buf.data(), buf.size(), sample.data(), sample.size(), level);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (ZSTD_isError(n)) continue;
    LevelSample s;
    s.level = level;
    s.mib_s = static_cast<double>(sample.size()) / 1048576.0 / std::max(secs, 1e-6);
    s.ratio = static_cast<double>(n) / static_cast<double>(sample.size());
    out.push_back(s);
  }
  ZSTD_freeCCtx(cctx);
  return out;
}

std::string SampleGolden(const Golden& golden, size_t max_bytes) {
  std::string out;
  out.reserve(max_bytes);
  for (const auto& p : golden.parts()) {
    if (out.size() >= max_bytes) break;
    if (p.info.method == format::Method::kTree && !p.dir.empty()) {
      std::error_code ec;
      fs::recursive_directory_iterator it(p.dir, fs::directory_options::skip_permission_denied, ec), end;
      int files = 0;
      for (; !ec && it != end && out.size() < max_bytes && files < 4000; it.increment(ec)) {
        std::error_code e2;
        if (!it->is_regular_file(e2) || it->is_symlink(e2)) continue;
        ++files;
        ReadSome(it->path().string(), std::min(kPerFile, max_bytes - out.size()), &out);
      }
    } else if (p.info.method == format::Method::kRaw && !p.device.empty()) {
      ReadSome(p.device, std::min<size_t>(max_bytes - out.size(), 4 << 20), &out);
    }
  }
  return out;
}

double LocalLinkMibPerSecond(os::Env& env) {
  double best = 0;
  auto names = env.ListDir("/sys/class/net");
  for (const std::string& name : names.ok() ? *names : std::vector<std::string>{}) {
    if (name == "lo") continue;
    const std::string dir = "/sys/class/net/" + name;
    std::string s;
    std::istringstream(env.ReadFile(dir + "/operstate").value_or("")) >> s;
    if (s != "up" && s != "unknown") continue;
    long mbit = 0;
    std::istringstream speed(env.ReadFile(dir + "/speed").value_or(""));  // unreadable (EINVAL) when down
    if (!(speed >> mbit) || mbit <= 0 || mbit > 10'000'000) continue;
    best = std::max(best, static_cast<double>(mbit) * 1e6 / 8 / 1048576.0);
  }
  return best;
}

ZstdChoice ResolveZstd(const Golden& golden, int level, int threads, int link_mbit) {
  int t = threads >= 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (level > 0) {
    ZstdChoice c;
    c.level = level;
    c.threads = t;
    c.why = fmt::format("level {} with {} thread(s), as asked", level, std::max(1, t));
    return c;
  }
  double link = link_mbit > 0 ? link_mbit * 1e6 / 8 / 1048576.0 : LocalLinkMibPerSecond(golden.env());
  const char* link_from = link_mbit > 0 ? "--link-mbit" : "the fastest local interface";
  if (link <= 0) {
    link = 1000 * 1e6 / 8 / 1048576.0;
    link_from = "assumed: no interface says its speed; --link-mbit sets it";
  }
  auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  std::string sample = SampleGolden(golden, 4 << 20);
  // Levels in increasing order; stop at the first that compression makes slower than the best
  // so far (the next ones are slower still), or when the measurement has taken its budget (a
  // slow CPU: one emulated took 14 s for six levels on 8 MiB).
  std::vector<LevelSample> samples;
  for (int lv : {1, 3, 5, 7, 9, 12}) {
    auto one = MeasureZstdLevels(sample, {lv});
    if (one.empty()) break;
    samples.push_back(one.front());
    ZstdChoice so_far = ChooseZstdLevel(samples, t, link);
    if (so_far.level != lv && SlowerThanTheLink(one.front(), t, link)) break;
    if (elapsed() > kMeasureBudgetSeconds) break;
  }
  ZstdChoice c = ChooseZstdLevel(samples, t, link);
  c.why += fmt::format(" ({}; levels {}-{} measured on {:.1f} MiB of the golden in {:.2f} s)", link_from,
                       samples.empty() ? 0 : samples.front().level, samples.empty() ? 0 : samples.back().level,
                       static_cast<double>(sample.size()) / 1048576.0, elapsed());
  return c;
}

}  // namespace ka::golden
