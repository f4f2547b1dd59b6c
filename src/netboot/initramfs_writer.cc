// Reproducible cpio newc initramfs images through libarchive (see initramfs_writer.h).
#include "netboot/initramfs_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "util/archive_ptr.h"
#include "util/fd.h"

namespace ka::netboot {
namespace {

std::string Relative(const std::string& path) {
  size_t b = path.find_first_not_of('/');
  std::string r = b == std::string::npos ? "" : path.substr(b);
  while (!r.empty() && r.back() == '/') r.pop_back();
  return r;
}

}  // namespace

void InitramfsWriter::Put(const std::string& path, Entry e) {
  std::string rel = Relative(path);
  if (rel.empty()) return;
  for (size_t slash = rel.find('/'); slash != std::string::npos; slash = rel.find('/', slash + 1)) {
    std::string parent = rel.substr(0, slash);
    if (entries_.count(parent) == 0) entries_[parent] = Entry{Kind::kDirectory, 0755, {}, {}, 0, 0};
  }
  entries_[rel] = std::move(e);
}

void InitramfsWriter::AddDirectory(const std::string& path, uint32_t mode) {
  Put(path, Entry{Kind::kDirectory, mode, {}, {}, 0, 0});
}
void InitramfsWriter::AddFile(const std::string& path, const std::string& host_file, uint32_t mode) {
  Put(path, Entry{Kind::kFile, mode, host_file, {}, 0, 0});
}
void InitramfsWriter::AddData(const std::string& path, std::string data, uint32_t mode) {
  Put(path, Entry{Kind::kFile, mode, {}, std::move(data), 0, 0});
}
void InitramfsWriter::AddSymlink(const std::string& path, const std::string& target) {
  Put(path, Entry{Kind::kSymlink, 0777, {}, target, 0, 0});
}
void InitramfsWriter::AddCharDevice(const std::string& path, uint32_t mode, unsigned major, unsigned minor) {
  Put(path, Entry{Kind::kCharDevice, mode, {}, {}, major, minor});
}

Status InitramfsWriter::AddTree(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, ec), end;
  if (ec) return Status::Io("cannot read directory " + root + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Status::Io("walking " + root + ": " + ec.message());
    const std::string host = it->path().string();
    const std::string rel = host.substr(root.size());
    struct stat st {};
    if (::lstat(host.c_str(), &st) != 0) return Status::Io(ErrnoMessage("lstat " + host, errno));
    uint32_t perm = st.st_mode & 07777;
    if (S_ISDIR(st.st_mode)) {
      AddDirectory(rel, perm);
    } else if (S_ISREG(st.st_mode)) {
      AddFile(rel, host, perm);
    } else if (S_ISLNK(st.st_mode)) {
      std::error_code lec;
      auto target = fs::read_symlink(host, lec);
      if (lec) return Status::Io("readlink " + host + ": " + lec.message());
      AddSymlink(rel, target.string());
    } else {
      return Status::Invalid(host + " is not a directory, file or symlink; cannot put it in an initramfs");
    }
  }
  return Status::Ok();
}

Result<InitramfsStats> InitramfsWriter::Write(const std::string& output, const InitramfsOptions& options) const {
  InitramfsStats stats;
  ArchiveWritePtr a(archive_write_new());
  if (!a) return Status::Io("archive_write_new failed (out of memory)");
  auto fail = [&](const std::string& what) { return Status::Io(what + " " + output + ": " + ArchiveMessage(a.get())); };
  if (archive_write_set_format_cpio_newc(a.get()) != ARCHIVE_OK) return fail("cpio newc format for");
  switch (options.compression) {
    case InitramfsCompression::kZstd:
      if (archive_write_add_filter_zstd(a.get()) != ARCHIVE_OK) return fail("zstd filter for");
      if (archive_write_set_filter_option(a.get(), "zstd", "compression-level",
                                          std::to_string(options.level).c_str()) != ARCHIVE_OK)
        return fail("zstd level for");
      break;
    case InitramfsCompression::kGzip:
      if (archive_write_add_filter_gzip(a.get()) != ARCHIVE_OK) return fail("gzip filter for");
      if (archive_write_set_filter_option(a.get(), "gzip", "compression-level",
                                          std::to_string(options.level).c_str()) != ARCHIVE_OK ||
          archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr) != ARCHIVE_OK)
        return fail("gzip options for");
      break;
    case InitramfsCompression::kNone:
      break;
  }
  // The kernel reads the cpio as a stream: no padding to a tar-style block.
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open_filename(a.get(), output.c_str()) != ARCHIVE_OK) return fail("cannot create");

  ArchiveEntryPtr e(archive_entry_new());
  int64_t ino = 0;
  std::vector<char> buf(1 << 20);
  for (const auto& [path, entry] : entries_) {
    archive_entry_clear(e.get());
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    archive_entry_set_mtime(e.get(), options.mtime, 0);
    archive_entry_set_ino64(e.get(), ++ino);
    archive_entry_set_dev(e.get(), 0);
    archive_entry_set_nlink(e.get(), entry.kind == Kind::kDirectory ? 2 : 1);
    archive_entry_set_size(e.get(), 0);  // libarchive wants it set; files set theirs below
    UniqueFd fd;
    int64_t size = 0;
    switch (entry.kind) {
      case Kind::kDirectory:
        archive_entry_set_mode(e.get(), AE_IFDIR | entry.mode);
        break;
      case Kind::kSymlink:
        archive_entry_set_mode(e.get(), AE_IFLNK | 0777);
        archive_entry_set_symlink(e.get(), entry.data.c_str());
        break;
      case Kind::kCharDevice:
        archive_entry_set_mode(e.get(), AE_IFCHR | entry.mode);
        archive_entry_set_rdev(e.get(), makedev(entry.major, entry.minor));
        break;
      case Kind::kFile:
        archive_entry_set_mode(e.get(), AE_IFREG | entry.mode);
        if (!entry.host_file.empty()) {
          fd.reset(::open(entry.host_file.c_str(), O_RDONLY | O_CLOEXEC));
          struct stat st {};
          if (!fd.valid() || ::fstat(fd.get(), &st) != 0)
            return Status::Io(ErrnoMessage("cannot read " + entry.host_file, errno));
          size = st.st_size;
        } else {
          size = static_cast<int64_t>(entry.data.size());
        }
        archive_entry_set_size(e.get(), size);
        break;
    }
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) return fail("writing header of /" + path + " to");
    ++stats.entries;
    if (entry.kind != Kind::kFile) continue;
    if (!entry.host_file.empty()) {
      int64_t left = size;
      while (left > 0) {
        ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Status::Io(ErrnoMessage("reading " + entry.host_file, errno));
        if (n == 0) return Status::Io(entry.host_file + " shrank while it was being archived");
        if (n > left) n = static_cast<ssize_t>(left);
        if (archive_write_data(a.get(), buf.data(), static_cast<size_t>(n)) != n) return fail("writing data to");
        left -= n;
      }
    } else if (!entry.data.empty() &&
               archive_write_data(a.get(), entry.data.data(), entry.data.size()) !=
                   static_cast<la_ssize_t>(entry.data.size())) {
      return fail("writing data to");
    }
    stats.data_bytes += static_cast<uint64_t>(size);
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return fail("finishing");
  struct stat st {};
  if (::stat(output.c_str(), &st) != 0) return Status::Io(ErrnoMessage("stat " + output, errno));
  stats.archive_bytes = static_cast<uint64_t>(st.st_size);
  return stats;
}

namespace {

// ---- ka/secret.img ----

la_ssize_t AppendToString(struct archive*, void* client, const void* buf, size_t n) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

Status AddEntry(struct archive* a, const char* path, mode_t type_and_mode, const std::string* content) {
  ArchiveEntryPtr e(archive_entry_new());
  if (!e) return Status::Io("creating secret.img: out of memory");
  archive_entry_set_pathname(e.get(), path);
  archive_entry_set_filetype(e.get(), type_and_mode & S_IFMT);
  archive_entry_set_perm(e.get(), type_and_mode & 07777);
  archive_entry_set_uid(e.get(), 0);
  archive_entry_set_gid(e.get(), 0);
  archive_entry_set_nlink(e.get(), S_ISDIR(type_and_mode) ? 2 : 1);
  archive_entry_set_mtime(e.get(), 0, 0);
  archive_entry_set_size(e.get(), content != nullptr ? static_cast<la_int64_t>(content->size()) : 0);
  if (archive_write_header(a, e.get()) != ARCHIVE_OK) {
    return Status::Io(fmt::format("creating secret.img: entry {}: {}", path, ArchiveMessage(a)));
  }
  if (content != nullptr && !content->empty() &&
      archive_write_data(a, content->data(), content->size()) != static_cast<la_ssize_t>(content->size())) {
    return Status::Io(fmt::format("creating secret.img: writing {}: {}", path, ArchiveMessage(a)));
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> MakeSecretImage(const std::string& secret) {
  std::string out;
  ArchiveWritePtr a(archive_write_new());
  if (!a) return Status::Io("creating secret.img: out of memory");
  if (archive_write_set_format_cpio_newc(a.get()) != ARCHIVE_OK ||
      archive_write_add_filter_none(a.get()) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK ||
      archive_write_open(a.get(), &out, nullptr, AppendToString, nullptr) != ARCHIVE_OK) {
    return Status::Io("creating secret.img: " + ArchiveMessage(a.get()));
  }
  KA_RETURN_IF_ERROR(AddEntry(a.get(), "etc", S_IFDIR | 0755, nullptr));
  KA_RETURN_IF_ERROR(AddEntry(a.get(), "etc/ka", S_IFDIR | 0755, nullptr));
  KA_RETURN_IF_ERROR(AddEntry(a.get(), "etc/ka/secret", S_IFREG | 0600, &secret));
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return Status::Io("creating secret.img: " + ArchiveMessage(a.get()));
  }
  return out;
}

}  // namespace ka::netboot
