#include "golden/streamer.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "golden/tree_writer.h"
#include "util/fd.h"
#include "util/log.h"
#include "util/units.h"

namespace ka::golden {

namespace {

using Clock = std::chrono::steady_clock;

Status StreamRaw(const GoldenPart& p, const StreamOptions& o, format::StreamWriter& w, SectionStats* st) {
  UniqueFd fd(::open(p.device.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::Io("cannot open golden partition " + p.device + ": " + std::strerror(errno));
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, o.zstd_level);
  if (o.zstd_threads > 0) ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, o.zstd_threads);
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> guard(cctx, ZSTD_freeCCtx);
  std::vector<char> in(4 << 20), out(ZSTD_CStreamOutSize());
  uint64_t left = p.info.size;
  for (;;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, in.size()));
    size_t got = 0;
    while (got < want) {
      ssize_t k = ::read(fd.get(), in.data() + got, want - got);
      if (k < 0 && errno == EINTR) continue;
      if (k < 0) return Status::Io("reading golden partition " + p.device + ": " + std::strerror(errno));
      if (k == 0) break;
      got += static_cast<size_t>(k);
    }
    if (got < want) return Status::Io("golden partition " + p.device + " is shorter than its table entry");
    left -= got;
    st->data_bytes += got;
    ZSTD_EndDirective mode = left == 0 ? ZSTD_e_end : ZSTD_e_continue;
    ZSTD_inBuffer ib{in.data(), got, 0};
    for (;;) {
      ZSTD_outBuffer ob{out.data(), out.size(), 0};
      size_t r = ZSTD_compressStream2(cctx, &ob, &ib, mode);
      if (ZSTD_isError(r)) return Status::Io(std::string("zstd: ") + ZSTD_getErrorName(r));
      if (ob.pos) {
        KA_RETURN_IF_ERROR(w.Data(out.data(), ob.pos));
        st->wire_bytes += ob.pos;
      }
      if (mode == ZSTD_e_end ? r == 0 : ib.pos == ib.size) break;
    }
    if (left == 0) break;
  }
  return Status::Ok();
}

}  // namespace

nlohmann::json StreamStats::ToJson() {
  std::lock_guard l(mu);
  nlohmann::json a = nlohmann::json::array();
  for (const auto& s : sections)
    a.push_back({{"partition", s.partition},
                 {"kind", s.kind},
                 {"entries", s.entries},
                 {"data_bytes", s.data_bytes},
                 {"wire_bytes", s.wire_bytes},
                 {"seconds", s.seconds}});
  return a;
}

nlohmann::json StreamStats::ChangedJson() {
  std::lock_guard l(mu);
  uint64_t count = 0;
  nlohmann::json listed = nlohmann::json::array();
  for (const auto& s : sections) {
    count += s.changed_count;
    for (const auto& c : s.changed) listed.push_back({{"partition", s.partition}, {"path", c.path}, {"what", c.what}});
  }
  return {{"count", count}, {"listed", listed}};
}

uint64_t StreamStats::ChangedCount() {
  std::lock_guard l(mu);
  uint64_t count = 0;
  for (const auto& s : sections) count += s.changed_count;
  return count;
}

Status StreamGolden(const Golden& golden, const StreamOptions& options, const format::ByteSink& sink, StreamStats* stats) {
  format::StreamWriter w(sink);
  int sections = 0;
  for (const auto& p : golden.parts()) {
    const auto& m = p.info;
    if (m.method != format::Method::kTree && m.method != format::Method::kRaw) continue;
    auto t0 = Clock::now();
    SectionStats st;
    st.partition = m.number;
    st.kind = format::MethodName(m.method);
    nlohmann::json begin{{"kind", st.kind}, {"partition", m.number}, {"fs", m.fs}, {"mount", m.mount}};
    if (m.method == format::Method::kRaw) begin["bytes"] = m.size;
    KA_RETURN_IF_ERROR(w.Begin(begin));
    LogInfo("streaming partition {} ({} {}, {} used) {}", m.number, m.fs, m.mount.empty() ? "-" : m.mount,
            FormatBytes(m.used), m.method == format::Method::kTree ? "file by file" : "block for block");
    if (m.method == format::Method::kTree) {
      TreeWriteOptions to;
      to.exclude = m.exclude;
      to.zstd_level = options.zstd_level;
      to.zstd_threads = options.zstd_threads;
      to.live = golden.live();
      auto r = WriteTree(p.dir, to, [&](const void* d, size_t n) { return w.Data(d, n); });
      if (!r.ok()) return r.status().Wrap("golden partition " + std::to_string(m.number) + " (" + m.fs + ")");
      st.entries = r->entries;
      st.data_bytes = r->data_bytes;
      st.wire_bytes = r->archive_bytes;
      st.changed_count = r->changed_count;
      const std::string base = m.mount.empty() || m.mount == "/" ? "/" : m.mount + "/";
      for (const auto& c : r->changed) st.changed.push_back({base + c.path, c.what});
      if (st.changed_count > 0) {
        LogWarn("partition {} ({}): {} file(s) changed while they were copied (each is copied as it was read; the "
                "clone goes on):",
                m.number, m.mount.empty() ? "-" : m.mount, st.changed_count);
        for (size_t i = 0; i < st.changed.size() && i < 20; ++i)
          LogWarn("  changed during the copy: {}: {}", st.changed[i].path, st.changed[i].what);
        if (st.changed_count > 20) LogWarn("  ... and {} more (the report lists {})", st.changed_count - 20, st.changed.size());
      }
    } else {
      KA_RETURN_IF_ERROR(StreamRaw(p, options, w, &st).Wrap("golden partition " + std::to_string(m.number)));
    }
    st.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    KA_RETURN_IF_ERROR(w.End({{"entries", st.entries}, {"data_bytes", st.data_bytes}, {"wire_bytes", st.wire_bytes}}));
    ++sections;
    std::lock_guard l(stats->mu);
    stats->sections.push_back(st);
    stats->stream_bytes = w.bytes();
  }
  KA_RETURN_IF_ERROR(w.Finish({{"sections", sections}}));
  std::lock_guard l(stats->mu);
  stats->stream_bytes = w.bytes();
  return Status::Ok();
}

}  // namespace ka::golden
