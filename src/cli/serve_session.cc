#include "cli/serve_session.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "chain/frame.h"
#include "chain/report.h"
#include "format/manifest.h"
#include "format/stream_format.h"
#include "golden/clone_report.h"
#include "golden/generator_source.h"
#include "golden/zstd_tuning.h"
#include "netboot/boot_switch.h"
#include "netboot/stage1_agent.h"
#include "os/env.h"
#include "util/interrupt.h"
#include "util/log.h"
#include "util/units.h"

namespace ka::cli {

namespace {

// The stage2 broadcast: a plain file session to the same nodes, before the clone.
int SendStage2(const ServeOptions& options, int* ok_nodes, double* seconds) {
  control::SendSessionOptions s = options.send;
  s.session = netboot::Stage2Session(options.send.session);
  s.source_path = options.stage2;
  s.prepare = nullptr;
  s.open_source = nullptr;
  *ok_nodes = 0;
  s.finish_report = [ok_nodes](chain::SessionReport& r) {
    for (const auto& n : r.nodes) *ok_nodes += n.ok ? 1 : 0;
  };
  s.on_node_final = nullptr;
  s.stagger = 0;
  s.web.clear();  // the dashboard follows the clone session
  s.attach = nullptr;
  s.allow_exec = false;
  s.report_path.clear();
  if (!options.send.session_dir.empty() && options.send.session_dir != "none")
    s.session_dir = options.send.session_dir + "/stage2";
  LogInfo("sending stage2 {} to {} node(s) on session '{}'", options.stage2, s.nodes, s.session);
  auto t0 = std::chrono::steady_clock::now();
  int rc = control::RunSendSession(s);
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rc;
}

// Per node: the stream and each finishing step it reported, in seconds.
std::string PhaseTable(const chain::SessionReport& r) {
  static const char* kOrder[] = {"partition", "format", "stream", "individualise", "initramfs", "bootloader"};
  bool any = false;
  for (const auto& n : r.nodes) any |= !n.phases.empty();
  if (!any) return "";
  std::string s = fmt::format("{:<16}", "node (seconds)");
  for (const char* p : kOrder) s += fmt::format(" {:>13}", p);
  s += fmt::format(" {:>9}\n", "done at");
  for (const auto& n : r.nodes) {
    s += fmt::format("{:<16}", n.name);
    for (const char* p : kOrder) {
      auto it = n.phases.find(p);
      s += it == n.phases.end() ? fmt::format(" {:>13}", "-") : fmt::format(" {:>13.1f}", it->second);
    }
    s += fmt::format(" {:>9.1f}\n", n.seconds);
  }
  return s;
}

}  // namespace

void SwitchNodeBoot(const std::string& pxe_root, const std::string& name, const std::string& mac, bool ok) {
  if (mac.empty()) {
    LogWarn("node {} reported no MAC: its PXE boot stays as it is (switch it with ka netboot serve --set-boot)",
            name);
    return;
  }
  auto choice = ok ? netboot::BootChoice::kLocal : netboot::BootChoice::kKamethod;
  Status s = netboot::SetNodeBoot(os::DefaultEnv(), pxe_root, mac, choice);
  if (!s.ok())
    LogWarn("node {} ({}): cannot switch its PXE boot: {}", name, mac, s.ToString());
  else
    LogInfo("node {} ({}): next PXE boot is {}", name, mac, ok ? "local (cloned)" : "kamethod again (failed)");
}

int RunServe(const ServeOptions& options) {
  InterruptCleanup interrupt;  // Ctrl-C must not leave the golden's mounts and loop devices behind
  auto golden = golden::Golden::Open(options.golden, os::DefaultEnv());
  if (!golden.ok()) {
    LogError("cannot serve {}: {}", options.golden.source, golden.status().ToString());
    return 2;
  }
  golden::Golden& g = **golden;
  interrupt.Set([&g] { (void)g.Close(); });
  std::fputs(g.Summary().c_str(), stderr);
  const format::Manifest& m = g.manifest();
  if (options.dry_run) {
    std::printf("%s\n", m.ToJson().dump(2).c_str());
    return g.Close().ok() ? 0 : 1;
  }

  control::SendSessionOptions send = options.send;
  if (!options.stage2.empty()) {
    int ok_nodes = 0;
    double seconds = 0;
    int rc = SendStage2(options, &ok_nodes, &seconds);
    if (rc == 2 || ok_nodes == 0) {
      LogError("stage2 reached no node: nothing to clone");
      (void)g.Close();
      return rc == 2 ? 2 : 1;
    }
    LogInfo("stage2 sent to {} node(s) in {:.1f} s; cloning", ok_nodes, seconds);
    send.nodes = ok_nodes;
  }
  if (!options.pxe_root.empty()) {
    std::string root = options.pxe_root;
    send.on_node_final = [root](const std::string& name, const std::string& mac, bool ok) {
      SwitchNodeBoot(root, name, mac, ok);
    };
  }

  golden::StreamOptions stream = options.stream;
  golden::ZstdChoice zstd = golden::ResolveZstd(g, stream.zstd_level, stream.zstd_threads, stream.link_mbit);
  stream.zstd_level = zstd.level;
  stream.zstd_threads = zstd.threads;
  LogInfo("compression: {}", zstd.why);

  golden::StreamStats stats;
  send.prepare = nlohmann::json{{"clone", m.ToJson()}};
  send.open_source = [&]() -> Result<std::unique_ptr<chain::Source>> {
    auto s = golden::GeneratorSource::Start("clone of " + m.source, [&](const format::ByteSink& sink) {
      Status st = golden::StreamGolden(g, stream, sink, &stats);
      if (!st.ok() && st.code() != Status::Code::kClosed) LogError("streaming the golden failed: {}", st.ToString());
      return st;
    });
    if (!s.ok()) return s.status();
    return std::unique_ptr<chain::Source>(std::move(s).value());
  };
  send.finish_report = [&](chain::SessionReport& r) {
    uint64_t carried = 0;  // what the chain carried: the most any node received
    for (const auto& n : r.nodes) carried = std::max(carried, n.bytes);
    nlohmann::json clone = golden::CloneReport(m, g.live(), stats, zstd, carried, send.chunk, chain::kHeaderSize);
    uint64_t used = clone["used_bytes"].get<uint64_t>();
    uint64_t wire = clone["wire_bytes_per_link"].get<uint64_t>();
    double ratio = clone["wire_to_used_ratio"].get<double>();
    r.extra["clone"] = std::move(clone);
    r.extra_text = fmt::format(
        "golden filesystems use {} ({} disk); each link carried {} ({:.1f}% of the used bytes, {:.1f}% of the disk)\n",
        FormatBytes(used), FormatBytes(m.golden_disk), FormatBytes(wire), 100.0 * ratio,
        m.golden_disk ? 100.0 * static_cast<double>(wire) / static_cast<double>(m.golden_disk) : 0.0);
    if (uint64_t changed = stats.ChangedCount(); changed > 0)
      r.extra_text += fmt::format(
          "{} file(s) of the running golden changed while they were copied: each is on the nodes as it was when "
          "read (listed in the report, clone.changed_during_copy; --exclude what should not travel)\n",
          changed);
    r.extra_text += PhaseTable(r);
  };
  int rc = control::RunSendSession(send);
  if (Status s = g.Close(); !s.ok()) LogWarn("cleaning up the golden's mounts: {}", s.ToString());
  return rc;
}

}  // namespace ka::cli
