#include "node/initramfs_contents.h"

#include <archive.h>
#include <archive_entry.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "util/archive_ptr.h"

namespace ka::node {
namespace {

constexpr size_t kNewcHeader = 110;

std::string Normalize(std::string p) {
  while (p.rfind("./", 0) == 0) p.erase(0, 2);
  while (!p.empty() && p[0] == '/') p.erase(0, 1);
  return p;
}

bool HexField(const std::string& data, size_t at, uint64_t* v) {
  *v = 0;
  for (size_t i = 0; i < 8; ++i) {
    char c = data[at + i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return false;
    *v = *v * 16 + static_cast<uint64_t>(d);
  }
  return true;
}

size_t Align4(size_t n) { return (n + 3) & ~static_cast<size_t>(3); }

// One uncompressed newc archive starting at `pos`; returns the offset after its trailer.
Result<size_t> ReadNewc(const std::string& data, size_t pos, std::vector<std::string>* out) {
  for (;;) {
    if (pos + kNewcHeader > data.size())
      return Status::Corruption("initramfs: cpio header truncated at offset " + std::to_string(pos));
    if (data.compare(pos, 6, "070701") != 0 && data.compare(pos, 6, "070702") != 0)
      return Status::Corruption("initramfs: no cpio header at offset " + std::to_string(pos));
    uint64_t filesize = 0, namesize = 0;
    if (!HexField(data, pos + 6 + 6 * 8, &filesize) || !HexField(data, pos + 6 + 11 * 8, &namesize) || namesize == 0)
      return Status::Corruption("initramfs: bad cpio header at offset " + std::to_string(pos));
    if (pos + kNewcHeader + namesize > data.size())
      return Status::Corruption("initramfs: cpio name truncated at offset " + std::to_string(pos));
    std::string name = data.substr(pos + kNewcHeader, namesize - 1);
    size_t next = Align4(pos + kNewcHeader + namesize);
    next = Align4(next + filesize);
    if (next > data.size() + 3) return Status::Corruption("initramfs: cpio data truncated for " + name);
    if (name == "TRAILER!!!") return std::min(next, data.size());
    out->push_back(Normalize(name));
    pos = next;
  }
}

Status ReadCompressed(const std::string& data, size_t pos, std::vector<std::string>* out) {
  ArchiveReadPtr a(archive_read_new());
  if (!a) return Status::Io("libarchive: out of memory");
  archive_read_support_filter_all(a.get());
  archive_read_support_format_cpio(a.get());
  if (archive_read_open_memory(a.get(), data.data() + pos, data.size() - pos) != ARCHIVE_OK)
    return Status::Corruption("initramfs: the part at offset " + std::to_string(pos) +
                              " is no cpio archive libarchive can read: " + ArchiveMessage(a.get()));
  for (;;) {
    struct archive_entry* e = nullptr;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      return Status::Corruption("initramfs: reading the archive at offset " + std::to_string(pos) + ": " +
                                ArchiveMessage(a.get()));
    const char* p = archive_entry_pathname(e);
    if (p != nullptr) out->push_back(Normalize(p));
    archive_read_data_skip(a.get());
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> ListInitramfsData(const std::string& data) {
  std::vector<std::string> out;
  size_t pos = 0;
  for (;;) {
    while (pos < data.size() && data[pos] == '\0') ++pos;  // padding between archives
    if (pos >= data.size()) break;
    if (data.compare(pos, 6, "070701") == 0 || data.compare(pos, 6, "070702") == 0) {
      auto next = ReadNewc(data, pos, &out);
      if (!next.ok()) return next.status();
      pos = *next;
      continue;
    }
    KA_RETURN_IF_ERROR(ReadCompressed(data, pos, &out));
    break;  // the compressed main archive is the last part
  }
  if (out.empty()) return Status::Corruption("initramfs: no cpio archive in it");
  return out;
}

Result<std::vector<std::string>> ListInitramfs(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Io("cannot read the initramfs " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto r = ListInitramfsData(ss.str());
  if (!r.ok()) return r.status().Wrap(path);
  return r;
}

std::string ModuleName(const std::string& name) {
  std::string n = name;
  for (char& c : n)
    if (c == '-') c = '_';
  return n;
}

std::set<std::string> InitramfsModules(const std::vector<std::string>& paths) {
  std::set<std::string> mods;
  for (const auto& p : paths) {
    if (p.rfind("lib/modules/", 0) != 0 && p.rfind("usr/lib/modules/", 0) != 0) continue;
    std::string base = p.substr(p.rfind('/') + 1);
    for (const char* ext : {".ko", ".ko.xz", ".ko.zst", ".ko.gz"}) {
      size_t n = std::strlen(ext);
      if (base.size() > n && base.compare(base.size() - n, n, ext) == 0) {
        mods.insert(ModuleName(base.substr(0, base.size() - n)));
        break;
      }
    }
  }
  return mods;
}

}  // namespace ka::node
