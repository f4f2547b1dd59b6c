#include "golden/tree_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <functional>
#include <cstdlib>
#include <memory>
#include <set>

#include "format/fs_walk.h"
#include "util/archive_ptr.h"
#include "util/escape.h"
#include "util/fd.h"

namespace ka::golden {
namespace {

struct CctxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

// libarchive's tar output -> zstd (one frame with its content checksum) -> the sink.
// libarchive's own zstd filter writes no checksum, and without one a flipped
// byte in the compressed stream mostly decodes to silently different file data.
struct SinkContext {
  const Sink* sink = nullptr;
  std::unique_ptr<ZSTD_CCtx, CctxFree> zstd;
  std::vector<char> out;
  Status status;         // the first error of the sink or of zstd
  bool failed = false;   // the sink or zstd failed: never call the sink again
  bool aborted = false;  // we are giving up: libarchive's final flush must not reach the sink
  uint64_t bytes = 0;

  // Compresses n bytes (ZSTD_e_continue) or ends the frame (ZSTD_e_end), handing
  // whatever comes out to the sink.
  bool Compress(struct archive* a, const void* data, size_t n, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in = {data, n, 0};
    for (;;) {
      ZSTD_outBuffer o = {out.data(), out.size(), 0};
      size_t left = ZSTD_compressStream2(zstd.get(), &o, &in, mode);
      if (ZSTD_isError(left)) {
        failed = true;
        status = Status::Io(std::string("zstd compression failed: ") + ZSTD_getErrorName(left));
        archive_set_error(a, EIO, "%s", status.message().c_str());
        return false;
      }
      if (o.pos > 0) {
        Status s = (*sink)(out.data(), o.pos);
        if (!s.ok()) {
          failed = true;
          status = s;
          archive_set_error(a, EIO, "archive sink failed: %s", s.message().c_str());
          return false;
        }
        bytes += o.pos;
      }
      if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) return true;
    }
  }
};

la_ssize_t WriteCallback(struct archive* a, void* client, const void* buf, size_t n) {
  auto* c = static_cast<SinkContext*>(client);
  if (c->failed || c->aborted) {
    archive_set_error(a, ECANCELED, "archive output was abandoned");
    return -1;
  }
  if (!c->Compress(a, buf, n, ZSTD_e_continue)) return -1;
  return static_cast<la_ssize_t>(n);
}

int CloseCallback(struct archive* a, void* client) {
  auto* c = static_cast<SinkContext*>(client);
  if (c->failed || c->aborted) return ARCHIVE_FATAL;
  return c->Compress(a, nullptr, 0, ZSTD_e_end) ? ARCHIVE_OK : ARCHIVE_FATAL;
}

// Marks the output abandoned unless the archive was closed normally, before the
// write handle (declared earlier) is freed and would flush its tail.
struct AbandonGuard {
  SinkContext& ctx;
  bool closed = false;
  ~AbandonGuard() {
    if (!closed) ctx.aborted = true;
  }
};

class TreeArchiver {
 public:
  TreeArchiver(const TreeWriteOptions& options, SinkContext& ctx) : options_(options), ctx_(ctx) {}

  Result<TreeWriteStats> Run(const std::string& root);

 private:
  Status Setup(const std::string& canon);
  Status ArchiveEntry(ArchiveEntryPtr entry);
  Status WriteEntry(struct archive_entry* e, const std::string& rel, bool with_data);
  Status CopyData(struct archive_entry* e, const std::string& rel);
  Status WriteBytes(const void* data, size_t n, const std::string& rel);
  Status WriteZeros(int64_t n, const std::string& rel);
  Status WriteFailure(const std::string& what);
  void NoteChange(const std::string& rel, const std::string& what);
  void CheckUnchanged(struct archive_entry* e, const std::string& rel);

  const TreeWriteOptions& options_;
  SinkContext& ctx_;
  std::string canon_;
  UniqueFd root_fd_;
  format::FsIdentity root_id_;
  std::set<std::string> excluded_;
  ArchiveReadPtr disk_;
  ArchiveWritePtr out_;
  LinkResolverPtr links_;
  std::vector<char> zeros_;
  TreeWriteStats stats_;
};

void TreeArchiver::NoteChange(const std::string& rel, const std::string& what) {
  ++stats_.changed_count;
  if (stats_.changed.size() < kMaxChangedListed) stats_.changed.push_back({rel, what});
}

// After a live file's data was read: is it still what its header said?
void TreeArchiver::CheckUnchanged(struct archive_entry* e, const std::string& rel) {
  if (options_.after_read) options_.after_read(rel);
  auto st = format::LstatAt(root_fd_.get(), rel);
  if (!st.ok()) {
    NoteChange(rel, "vanished while it was read");
    return;
  }
  const int64_t size = archive_entry_size(e);
  if (st->st_size != size) {
    NoteChange(rel, "size " + std::to_string(size) + " -> " + std::to_string(st->st_size) + " while it was read");
    return;
  }
  if (st->st_mtim.tv_sec != archive_entry_mtime(e) || st->st_mtim.tv_nsec != archive_entry_mtime_nsec(e) ||
      (archive_entry_ctime_is_set(e) &&
       (st->st_ctim.tv_sec != archive_entry_ctime(e) || st->st_ctim.tv_nsec != archive_entry_ctime_nsec(e))))
    NoteChange(rel, "modified while it was read");
}

// A failure of libarchive's writer: the sink's own error if that is the cause.
Status TreeArchiver::WriteFailure(const std::string& what) {
  if (ctx_.failed) return ctx_.status;
  return Status::Io(what + ": " + ArchiveMessage(out_.get()));
}

Status TreeArchiver::Setup(const std::string& canon) {
  canon_ = canon;
  root_fd_.reset(::open(canon.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd_.valid())
    return Status::Invalid(ErrnoMessage("open tree root " + canon, errno) + " (give an existing directory)");
  auto id = format::FsIdentityAt(root_fd_.get(), "");
  if (!id.ok()) return id.status().Wrap("tree root " + canon);
  root_id_ = *id;
  for (const auto& x : options_.exclude) {
    std::string rel = format::NormalizeRelativePath(x);
    if (rel == ".")
      return Status::Invalid("cannot exclude the tree root itself ('" + x + "'): name directories below it");
    excluded_.insert(rel);
  }

  disk_.reset(archive_read_disk_new());
  if (!disk_) return Status::Io("libarchive: out of memory creating the disk reader");
  archive_read_disk_set_symlink_physical(disk_.get());
  int behavior = 0;
  if (options_.one_file_system) behavior |= ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS;
  if (archive_read_disk_set_behavior(disk_.get(), behavior) != ARCHIVE_OK)
    return Status::Io("libarchive disk reader: " + ArchiveMessage(disk_.get()));
  // No uname/gname lookup on purpose: owners travel as numbers only.

  out_.reset(archive_write_new());
  if (!out_) return Status::Io("libarchive: out of memory creating the archive writer");
  struct archive* w = out_.get();
  if (archive_write_set_format_pax(w) != ARCHIVE_OK) return WriteFailure("libarchive pax format");
  // Names as raw bytes: no conversion through the locale (which may be "C").
  if (archive_write_set_format_option(w, "pax", "hdrcharset", "BINARY") != ARCHIVE_OK)
    return WriteFailure("libarchive pax option hdrcharset=BINARY");

  ctx_.zstd.reset(ZSTD_createCCtx());
  if (!ctx_.zstd) return Status::Io("zstd: out of memory creating the compressor");
  ZSTD_CCtx* z = ctx_.zstd.get();
  if (options_.zstd_level < ZSTD_minCLevel() || options_.zstd_level > ZSTD_maxCLevel() ||
      ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, options_.zstd_level)))
    return Status::Invalid("zstd level " + std::to_string(options_.zstd_level) + " is not supported (use 1 to " +
                           std::to_string(ZSTD_maxCLevel()) + ")");
  if (ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1)))
    return Status::Io("zstd refused to add content checksums");
  if (options_.zstd_threads < 0 ||
      (options_.zstd_threads > 0 && ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_nbWorkers, options_.zstd_threads))))
    return Status::Invalid("zstd threads " + std::to_string(options_.zstd_threads) +
                           " refused (this libzstd may lack multithreading: use 0)");
  ctx_.out.resize(ZSTD_CStreamOutSize());
  archive_write_set_bytes_per_block(w, 128 * 1024);
  archive_write_set_bytes_in_last_block(w, 1);  // no padding beyond the end-of-archive blocks
  if (archive_write_open2(w, &ctx_, nullptr, WriteCallback, CloseCallback, nullptr) != ARCHIVE_OK)
    return WriteFailure("opening the archive output");

  links_.reset(archive_entry_linkresolver_new());
  if (!links_) return Status::Io("libarchive: out of memory creating the hardlink resolver");
  archive_entry_linkresolver_set_strategy(links_.get(), archive_format(w));

  zeros_.assign(1 << 20, 0);
  if (archive_read_disk_open(disk_.get(), canon.c_str()) != ARCHIVE_OK)
    return Status::Io("reading tree " + canon + ": " + ArchiveMessage(disk_.get()));
  return Status::Ok();
}

Status TreeArchiver::WriteBytes(const void* data, size_t n, const std::string& rel) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    la_ssize_t w = archive_write_data(out_.get(), p, n);
    if (w < 0) return WriteFailure("archiving data of " + rel);
    if (w == 0) break;  // the entry is full (the file grew while being read)
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

Status TreeArchiver::WriteZeros(int64_t n, const std::string& rel) {
  while (n > 0) {
    size_t chunk = static_cast<size_t>(std::min<int64_t>(n, static_cast<int64_t>(zeros_.size())));
    KA_RETURN_IF_ERROR(WriteBytes(zeros_.data(), chunk, rel));
    n -= static_cast<int64_t>(chunk);
  }
  return Status::Ok();
}

// The file's bytes in order, zeros for the holes (the pax writer drops those that
// fall in its sparse map's holes, and stores them for a file archived as non-sparse).
Status TreeArchiver::CopyData(struct archive_entry* e, const std::string& rel) {
  const int64_t size = archive_entry_size(e);
  int64_t progress = 0;
  for (;;) {
    const void* buf = nullptr;
    size_t len = 0;
    la_int64_t off = 0;
    int r = archive_read_data_block(disk_.get(), &buf, &len, &off);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && options_.live && archive_errno(disk_.get()) == ENOENT) {
      NoteChange(rel, "vanished while it was read (stored with zeros)");
      break;
    }
    if (r != ARCHIVE_OK) return Status::Io("reading " + rel + ": " + ArchiveMessage(disk_.get()));
    if (off < progress)
      return Status::Io("reading " + rel + ": data block at offset " + std::to_string(off) +
                        " goes backwards (the file changed while being archived?)");
    if (off > size) break;
    if (off > progress) KA_RETURN_IF_ERROR(WriteZeros(off - progress, rel));
    len = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(len), size - off));
    KA_RETURN_IF_ERROR(WriteBytes(buf, len, rel));
    stats_.data_bytes += len;
    progress = off + static_cast<int64_t>(len);
  }
  if (progress < size) KA_RETURN_IF_ERROR(WriteZeros(size - progress, rel));  // trailing hole
  return Status::Ok();
}

Status TreeArchiver::WriteEntry(struct archive_entry* e, const std::string& rel, bool with_data) {
  int r = archive_write_header(out_.get(), e);
  if (r != ARCHIVE_OK) return WriteFailure("archiving " + rel);
  ++stats_.entries;
  // A hardlink's later names carry no data (size 0 in the archive): the first name's was checked.
  const bool first_name = archive_entry_hardlink(e) == nullptr;
  if (with_data && archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0) {
    stats_.file_bytes += static_cast<uint64_t>(archive_entry_size(e));
    const uint64_t changed_before = stats_.changed_count;
    KA_RETURN_IF_ERROR(CopyData(e, rel));
    if (options_.live && stats_.changed_count == changed_before) CheckUnchanged(e, rel);
  } else if (with_data && options_.live && archive_entry_filetype(e) == AE_IFREG && first_name) {
    CheckUnchanged(e, rel);  // empty when listed: did it grow?
  }
  if (archive_write_finish_entry(out_.get()) != ARCHIVE_OK) return WriteFailure("finishing " + rel);
  return Status::Ok();
}

Status TreeArchiver::ArchiveEntry(ArchiveEntryPtr entry) {
  struct archive_entry* e = entry.get();
  const char* src = archive_entry_pathname(e);
  std::string path = src != nullptr ? src : "";
  if (path.compare(0, canon_.size(), canon_) != 0)
    return Status::Io("libarchive returned " + path + ", which is not below the tree root " + canon_);
  std::string rel = path.substr(canon_.size());
  rel.erase(0, rel.find_first_not_of('/') == std::string::npos ? rel.size() : rel.find_first_not_of('/'));
  if (rel.empty()) rel = ".";

  const mode_t type = archive_entry_filetype(e);
  if (type == AE_IFSOCK) {
    ++stats_.skipped_sockets;
    return Status::Ok();
  }
  const bool excluded = excluded_.count(rel) > 0;
  if (type == AE_IFDIR) {
    bool descend = !excluded;
    if (descend && options_.one_file_system && rel != ".") {
      auto id = format::FsIdentityAt(root_fd_.get(), rel);
      if (!id.ok()) return id.status().Wrap("reading tree " + canon_);
      descend = *id == root_id_;
    }
    if (descend && archive_read_disk_descend(disk_.get()) != ARCHIVE_OK)
      return Status::Io("reading directory " + rel + ": " + ArchiveMessage(disk_.get()));
  } else if (excluded) {
    return Status::Ok();
  }
  // libarchive 3.6.2 creates such paths on the node (it chdirs down the tree) but
  // then restores owner, mode and times relative to the wrong directory: refuse
  // here, before any node is half done.
  if (rel.size() >= PATH_MAX - 1)
    return Status::Invalid("path " + EscapeBytes(rel.substr(0, 80)) + "... is " + std::to_string(rel.size()) +
                           " bytes long: the node cannot restore paths of PATH_MAX (" + std::to_string(PATH_MAX) +
                           ") bytes or more; exclude a directory above it");
  archive_entry_copy_pathname(e, rel.c_str());

  // Holes only for files with fewer blocks than bytes (see the header).
  if (type == AE_IFREG && archive_entry_sparse_count(e) > 0) {
    auto st = format::LstatAt(root_fd_.get(), rel);
    if (!st.ok()) return st.status().Wrap("reading tree " + canon_);
    if (!format::MayBeSparse(*st)) archive_entry_sparse_clear(e);
  }

  if (options_.reproducible) {
    archive_entry_unset_atime(e);
    archive_entry_unset_ctime(e);
    archive_entry_unset_birthtime(e);
    archive_entry_set_dev(e, 0);
    archive_entry_set_ino64(e, 0);
  }

  // Hardlinks: the first name carries the data, later ones are links to it. With the
  // tar strategy nothing is ever deferred.
  struct archive_entry* linked = e;
  struct archive_entry* spare = nullptr;
  archive_entry_linkify(links_.get(), &linked, &spare);
  if (linked != e || spare != nullptr)
    return Status::Io("libarchive hardlink resolver deferred " + rel + " (unexpected for pax)");
  return WriteEntry(e, rel, true);
}

Result<TreeWriteStats> TreeArchiver::Run(const std::string& root) {
  char real[PATH_MAX];
  if (::realpath(root.c_str(), real) == nullptr)
    return Status::Invalid(ErrnoMessage("tree root " + root, errno) + " (give an existing directory)");
  KA_RETURN_IF_ERROR(Setup(real));
  for (;;) {
    ArchiveEntryPtr entry(archive_entry_new());
    if (!entry) return Status::Io("libarchive: out of memory for an entry");
    int r = archive_read_next_header2(disk_.get(), entry.get());
    if (r == ARCHIVE_EOF) break;
    if ((r == ARCHIVE_FAILED || r == ARCHIVE_WARN) && options_.live && archive_errno(disk_.get()) == ENOENT) {
      // libarchive says "PATH: Cannot stat" (or names it in its entry)
      const char* p = archive_entry_pathname(entry.get());
      std::string rel = p != nullptr ? p : ArchiveMessage(disk_.get());
      if (size_t c = rel.rfind(": "); p == nullptr && c != std::string::npos) rel.resize(c);
      if (rel.compare(0, canon_.size(), canon_) == 0) rel = rel.substr(std::min(rel.size(), canon_.size() + 1));
      NoteChange(rel, "vanished before it was read (left out)");
      continue;
    }
    if (r != ARCHIVE_OK) {
      const char* p = archive_entry_pathname(entry.get());
      return Status::Io("reading " + std::string(p != nullptr ? p : canon_) + ": " + ArchiveMessage(disk_.get()) +
                        " (fix or exclude it; nothing is skipped silently)");
    }
    KA_RETURN_IF_ERROR(ArchiveEntry(std::move(entry)));
  }
  if (archive_write_close(out_.get()) != ARCHIVE_OK) return WriteFailure("closing the archive");
  stats_.archive_bytes = ctx_.bytes;
  return stats_;
}

}  // namespace

Result<TreeWriteStats> WriteTree(const std::string& root, const TreeWriteOptions& options, const Sink& sink) {
  SinkContext ctx;
  ctx.sink = &sink;
  TreeArchiver archiver(options, ctx);
  AbandonGuard guard{ctx};
  auto r = archiver.Run(root);
  guard.closed = r.ok();
  // archiver (declared after ctx, before guard) is destroyed after the guard marked
  // the output abandoned, so a failed run never flushes a tail into the sink.
  return r;
}

}  // namespace ka::golden
