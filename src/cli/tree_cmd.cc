#include "cli/tree_cmd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>

#include "format/tree_manifest.h"
#include "golden/tree_writer.h"
#include "node/tree_extract.h"
#include "util/fd.h"
#include "util/log.h"

namespace ka::cli {
namespace {

int Fail(const char* cmd, const Status& s) {
  std::fprintf(stderr, "ka %s: %s\n", cmd, s.message().c_str());
  return s.code() == Status::Code::kInvalid || s.code() == Status::Code::kRefused ? 2 : 1;
}

Status WriteAll(int fd, const void* data, size_t n, const std::string& what) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return Status::Io(ErrnoMessage("writing " + what, errno));
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Mib(uint64_t b) { return static_cast<double>(b) / (1 << 20); }

}  // namespace

TreeCommands::TreeCommands(CLI::App& app) {
  archive_ = app.add_subcommand("tree-archive", "Write the zstd-compressed pax archive of a directory tree (helper)");
  archive_->add_option("dir", dir_, "Root of the tree (a mounted filesystem)")->required();
  archive_
      ->add_option("--exclude", exclude_,
                   "Directory (relative to DIR) archived empty: itself but none of its contents (repeatable)")
      ->allow_extra_args(false);  // one value per --exclude: "--exclude tmp DIR" keeps DIR
  archive_->add_option("-o,--output", output_, "Archive file to write, - for stdout")->capture_default_str();
  archive_->add_option("--zstd-level", level_, "zstd compression level")
      ->capture_default_str()
      ->check(CLI::Range(1, 19));
  archive_->add_option("--zstd-threads", threads_, "zstd worker threads (0: single-threaded)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  archive_->add_flag("--cross-filesystems", cross_filesystems_,
                     "Descend into other filesystems and mounts below DIR (default: stay on DIR's)");

  extract_ = app.add_subcommand("tree-extract", "Unpack a tree archive into a directory, ids kept numeric (helper)");
  extract_->add_option("dir", dir_, "Existing directory to unpack into (a fresh filesystem)")->required();
  extract_->add_option("-i,--input", input_, "Archive file to read, - for stdin")->capture_default_str();

  manifest_ = app.add_subcommand("tree-manifest", "Print the manifest of a tree, to compare clones (helper)");
  manifest_->add_option("dir", dir_, "Root of the tree")->required();
  manifest_
      ->add_option("--exclude-contents", exclude_,
                   "Directory (relative to DIR) listed without its contents (repeatable)")
      ->allow_extra_args(false);
  manifest_->add_flag("--no-hash", no_hash_, "Do not hash file contents (metadata only; much faster)");
  manifest_->add_flag("--cross-filesystems", cross_filesystems_, "Descend into other filesystems and mounts below DIR");
}

bool TreeCommands::parsed() const { return archive_->parsed() || extract_->parsed() || manifest_->parsed(); }

int TreeCommands::Run(bool verbose) {
  if (archive_->parsed()) {
    InitLogging("tree-archive", verbose);
    return RunArchive();
  }
  if (extract_->parsed()) {
    InitLogging("tree-extract", verbose);
    return RunExtract();
  }
  InitLogging("tree-manifest", verbose);
  return RunManifest();
}

int TreeCommands::RunArchive() {
  UniqueFd file;
  int fd = STDOUT_FILENO;
  std::string where = "stdout";
  if (output_ != "-") {
    file.reset(::open(output_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!file.valid()) return Fail("tree-archive", Status::Invalid(ErrnoMessage("cannot create " + output_, errno)));
    fd = file.get();
    where = output_;
  } else if (::isatty(STDOUT_FILENO)) {
    return Fail("tree-archive",
                Status::Invalid("not writing a binary archive to a terminal: give -o FILE or redirect"));
  }
  golden::TreeWriteOptions options;
  options.exclude = exclude_;
  options.zstd_level = level_;
  options.zstd_threads = threads_;
  options.one_file_system = !cross_filesystems_;
  auto start = std::chrono::steady_clock::now();
  auto stats =
      golden::WriteTree(dir_, options, [&](const void* data, size_t n) { return WriteAll(fd, data, n, where); });
  if (!stats.ok()) return Fail("tree-archive", stats.status());
  if (file.valid() && ::fsync(fd) != 0 && errno != EINVAL)
    return Fail("tree-archive", Status::Io(ErrnoMessage("fsync " + output_, errno)));
  double s = Seconds(start);
  LogInfo(
      "{} entries, {:.1f} MiB in files ({:.1f} MiB data read), {:.1f} MiB archive (ratio {:.2f}), {:.1f} s, "
      "{:.0f} MiB/s read{}",
      stats->entries, Mib(stats->file_bytes), Mib(stats->data_bytes), Mib(stats->archive_bytes),
      stats->archive_bytes > 0 ? static_cast<double>(stats->data_bytes) / static_cast<double>(stats->archive_bytes)
                               : 0.0,
      s, s > 0 ? Mib(stats->data_bytes) / s : 0.0,
      stats->skipped_sockets > 0 ? ", " + std::to_string(stats->skipped_sockets) + " sockets skipped" : "");
  return 0;
}

int TreeCommands::RunExtract() {
  UniqueFd file;
  int fd = STDIN_FILENO;
  if (input_ != "-") {
    file.reset(::open(input_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!file.valid()) return Fail("tree-extract", Status::Invalid(ErrnoMessage("cannot open " + input_, errno)));
    fd = file.get();
  }
  auto start = std::chrono::steady_clock::now();
  auto stats = node::ExtractTree(fd, dir_);
  if (!stats.ok()) return Fail("tree-extract", stats.status());
  double s = Seconds(start);
  LogInfo("{} entries, {:.1f} MiB data written, {:.1f} s", stats->entries, Mib(stats->bytes), s);
  return 0;
}

int TreeCommands::RunManifest() {
  format::ManifestOptions options;
  options.exclude_contents = exclude_;
  options.hash_content = !no_hash_;
  options.one_file_system = !cross_filesystems_;
  auto m = format::TreeManifest(dir_, options);
  if (!m.ok()) return Fail("tree-manifest", m.status());
  std::fputs(m->c_str(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace ka::cli
