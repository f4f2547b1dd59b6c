#include "netboot/secret_image.h"

#include <sys/stat.h>

#include <fmt/format.h>

#include "util/archive_ptr.h"

namespace ka::netboot {

namespace {

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
