#include "golden/serve.h"

#include <algorithm>
#include <cstdio>

#include "golden/generator_source.h"
#include "util/interrupt.h"
#include "util/log.h"
#include "util/units.h"

namespace ka::golden {

int RunServe(const ServeOptions& options) {
  InterruptCleanup interrupt;  // Ctrl-C must not leave the golden's mounts and loop devices behind
  auto golden = Golden::Open(options.golden);
  if (!golden.ok()) {
    LogError("cannot serve {}: {}", options.golden.source, golden.status().ToString());
    return 2;
  }
  Golden& g = **golden;
  interrupt.Set([&g] { (void)g.Close(); });
  std::fputs(g.Summary().c_str(), stderr);
  const Manifest& m = g.manifest();
  if (options.dry_run) {
    std::printf("%s\n", m.ToJson().dump(2).c_str());
    return g.Close().ok() ? 0 : 1;
  }

  StreamStats stats;
  chain::SendOptions send = options.send;
  send.prepare = nlohmann::json{{"clone", m.ToJson()}};
  send.open_source = [&]() -> Result<std::unique_ptr<chain::Source>> {
    auto s = GeneratorSource::Start("clone of " + m.source, [&](const ByteSink& sink) {
      Status st = StreamGolden(g, options.stream, sink, &stats);
      if (!st.ok() && st.code() != Status::Code::kClosed) LogError("streaming the golden failed: {}", st.ToString());
      return st;
    });
    if (!s.ok()) return s.status();
    return std::unique_ptr<chain::Source>(std::move(s).value());
  };
  send.finish_report = [&](chain::SessionReport& r) {
    uint64_t used = m.used_bytes();
    uint64_t carried = 0;  // what the chain carried: the most any node received
    for (const auto& n : r.nodes) carried = std::max(carried, n.bytes);
    uint64_t frames = send.chunk ? (carried + send.chunk - 1) / send.chunk : 0;
    uint64_t wire = carried + frames * 40;  // payload + frame headers on every link
    double ratio = used ? static_cast<double>(wire) / static_cast<double>(used) : 0;
    r.extra["clone"] = {{"golden", m.source},
                        {"used_bytes", used},
                        {"golden_disk_bytes", m.golden_disk},
                        {"stream_bytes", carried},
                        {"wire_bytes_per_link", wire},
                        {"wire_to_used_ratio", ratio},
                        {"sections", stats.ToJson()},
                        {"bootloader", m.bootloader}};
    r.extra_text = fmt::format(
        "golden filesystems use {} ({} disk); each link carried {} ({:.1f}% of the used bytes, {:.1f}% of the disk)\n",
        FormatBytes(used), FormatBytes(m.golden_disk), FormatBytes(wire), 100.0 * ratio,
        m.golden_disk ? 100.0 * static_cast<double>(wire) / static_cast<double>(m.golden_disk) : 0.0);
  };
  int rc = chain::RunSend(send);
  if (Status s = g.Close(); !s.ok()) LogWarn("cleaning up the golden's mounts: {}", s.ToString());
  return rc;
}

}  // namespace ka::golden
