// Owning pointers for libarchive objects, and its error text; shared by the
// golden's tree writer and the node's extractor.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <string>

namespace ka {

struct ArchiveReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct ArchiveEntryFree {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
struct LinkResolverFree {
  void operator()(struct archive_entry_linkresolver* r) const { archive_entry_linkresolver_free(r); }
};
using ArchiveReadPtr = std::unique_ptr<struct archive, ArchiveReadFree>;
using ArchiveWritePtr = std::unique_ptr<struct archive, ArchiveWriteFree>;
using ArchiveEntryPtr = std::unique_ptr<struct archive_entry, ArchiveEntryFree>;
using LinkResolverPtr = std::unique_ptr<struct archive_entry_linkresolver, LinkResolverFree>;

// libarchive's message for the last error on `a`.
inline std::string ArchiveMessage(struct archive* a) {
  const char* m = archive_error_string(a);
  return m != nullptr ? m : "unknown libarchive error";
}

}  // namespace ka
