#include "node/dev_links.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "layout/describe.h"
#include "layout/part_type.h"
#include "util/log.h"
#include "util/strings.h"

namespace ka::node {
namespace {

std::string ReadAttr(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Trimmed, inner runs of whitespace as one '_', '/' as '_' (udev's replace_whitespace
// and replace_chars on ID_SERIAL).
std::string IdPart(const std::string& raw) {
  std::string t = Trim(raw), out;
  bool space = false;
  for (unsigned char c : t) {
    if (c < 0x20 || c == 0x7f) continue;
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += '_';
    space = false;
    out += c == '/' ? '_' : static_cast<char>(c);
  }
  return out;
}

std::string Basename(const std::string& p) {
  size_t s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

bool ReadDevNumbers(const std::string& sysfs, const std::string& name, unsigned* major, unsigned* minor) {
  std::string text = Trim(ReadAttr(sysfs + "/class/block/" + name + "/dev"));
  return std::sscanf(text.c_str(), "%u:%u", major, minor) == 2;
}

// Length of the valid UTF-8 multibyte sequence at s[i] (0: not one).
size_t Utf8Len(const std::string& s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  return n;
}

}  // namespace

std::string UdevEscape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        std::string("#+-.:=@_").find(static_cast<char>(c)) != std::string::npos) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (size_t n = Utf8Len(s, i); n > 0) {
      out += s.substr(i, n);
      i += n;
      continue;
    }
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
    ++i;
  }
  return out;
}

std::string PartUuidOf(const layout::Table& table, const layout::TableEntry& entry) {
  if (table.label == layout::TableLabel::kGpt) return Lower(entry.uuid);
  std::string id = Lower(table.id);
  if (id.rfind("0x", 0) == 0) id = id.substr(2);
  if (id.empty()) return "";
  while (id.size() < 8) id = "0" + id;
  char nn[16];
  std::snprintf(nn, sizeof nn, "-%02x", entry.number);
  return id + nn;
}

std::vector<DevLink> UdevLinks(const std::vector<BlockNode>& nodes) {
  std::map<std::string, std::string> links;  // path -> target; the first device wins
  auto add = [&](const std::string& dir, const std::string& value, const std::string& name) {
    if (value.empty()) return;
    links.emplace("disk/" + dir + "/" + UdevEscape(value), "../../" + name);
  };
  for (const auto& n : nodes) {
    if (n.name.empty()) continue;
    add("by-uuid", n.fs_uuid, n.name);
    add("by-label", n.fs_label, n.name);
    if (n.number > 0) {
      add("by-partuuid", n.partuuid, n.name);
      add("by-partlabel", n.partlabel, n.name);
    }
    for (const auto& id : n.by_id) add("by-id", id, n.name);
    if (n.major != 0 || n.minor != 0)
      links.emplace("block/" + std::to_string(n.major) + ":" + std::to_string(n.minor), "../" + n.name);
  }
  std::vector<DevLink> out;
  for (const auto& [path, target] : links) out.push_back({path, target});
  return out;
}

std::vector<std::string> DiskIdNames(const std::string& sysfs, const std::string& disk_name) {
  std::vector<std::string> ids;
  const std::string base = sysfs + "/class/block/" + disk_name;
  if (disk_name.rfind("vd", 0) == 0) {
    std::string serial = IdPart(ReadAttr(base + "/serial"));
    if (!serial.empty()) ids.push_back("virtio-" + serial);
  } else if (disk_name.rfind("nvme", 0) == 0) {
    std::string model = IdPart(ReadAttr(base + "/device/model"));
    std::string serial = IdPart(ReadAttr(base + "/device/serial"));
    std::string wwid = IdPart(ReadAttr(base + "/wwid"));
    if (!wwid.empty()) ids.push_back("nvme-" + wwid);
    if (!model.empty() && !serial.empty()) ids.push_back("nvme-" + model + "_" + serial);
  } else if (disk_name.rfind("sd", 0) == 0) {
    std::string vendor = IdPart(ReadAttr(base + "/device/vendor"));
    std::string model = IdPart(ReadAttr(base + "/device/model"));
    std::string wwid = Trim(ReadAttr(base + "/device/wwid"));
    if (vendor == "ATA") {
      // VPD page 0x80: 4 header bytes, then the unit serial number.
      std::string pg80 = ReadAttr(base + "/device/vpd_pg80");
      std::string serial = pg80.size() > 4 ? IdPart(pg80.substr(4)) : "";
      if (!model.empty() && !serial.empty()) ids.push_back("ata-" + model + "_" + serial);
    }
    if (wwid.rfind("naa.", 0) == 0) ids.push_back("wwn-0x" + Lower(wwid.substr(4)));
  }
  return ids;
}

Result<std::vector<BlockNode>> DescribeDiskNodes(os::Env& ops, const std::string& sysfs,
                                                 const os::DiskInfo& disk, const layout::Table& table,
                                                 const std::vector<layout::PartitionDevice>& parts) {
  std::vector<BlockNode> nodes;
  std::vector<std::string> disk_ids;
  if (disk.block_device) {
    BlockNode d;
    d.name = Basename(disk.path);
    if (!ReadDevNumbers(sysfs, d.name, &d.major, &d.minor))
      return Status::Io("no device number for " + disk.path + " in " + sysfs + "/class/block/" + d.name + "/dev");
    d.by_id = disk_ids = DiskIdNames(sysfs, d.name);
    nodes.push_back(d);
  }
  for (const auto& p : parts) {
    BlockNode n;
    n.name = Basename(p.path);
    n.number = p.number;
    if (!ReadDevNumbers(sysfs, n.name, &n.major, &n.minor))
      return Status::Io("no device number for " + p.path + " in " + sysfs + "/class/block/" + n.name + "/dev");
    for (const auto& e : table.entries)
      if (e.number == p.number) {
        n.partuuid = PartUuidOf(table, e);
        if (table.label == layout::TableLabel::kGpt) n.partlabel = e.name;
      }
    auto fs = ops.ProbeFilesystem(disk.path, p.offset, p.size);
    if (!fs.ok()) return fs.status().Wrap("reading the filesystem ids of " + p.path);
    n.fs_type = fs->type;
    n.fs_uuid = fs->uuid;
    n.fs_label = fs->label;
    for (const auto& id : disk_ids) n.by_id.push_back(id + "-part" + std::to_string(p.number));
    nodes.push_back(n);
  }
  return nodes;
}

Result<std::vector<BlockNode>> DescribeKernelDisk(os::Env& ops, const std::string& sysfs,
                                                  const std::string& disk) {
  auto info = ops.Inspect(disk);
  if (!info.ok()) return info.status();
  layout::DescribeOptions o;
  o.probe_filesystems = false;
  std::vector<layout::PartitionDevice> parts;
  layout::Table table;
  auto d = layout::DescribeDisk(ops, info->path, o);
  if (d.ok()) {
    table = d->table;
    const uint64_t ss = table.sector_size;
    for (const auto& e : table.entries) {
      auto type = layout::PartTypeFromSfdisk(e.type, table.label);
      if (type.ok() && layout::IsExtended(*type)) continue;
      auto kp = ops.KernelPartitionOf(info->path, e.number);
      if (!kp || !kp->node_ok) continue;
      parts.push_back({e.number, kp->device, e.start * ss, e.size * ss, false});
    }
  }  // no table: the disk alone (its by-id and whole-disk filesystem)
  auto nodes = DescribeDiskNodes(ops, sysfs, *info, table, parts);
  if (!nodes.ok()) return nodes.status();
  if (parts.empty() && !nodes->empty()) {
    auto fs = ops.ProbeFilesystem(info->path, 0, info->geometry.size_bytes);
    if (fs.ok()) {
      (*nodes)[0].fs_type = fs->type;
      (*nodes)[0].fs_uuid = fs->uuid;
      (*nodes)[0].fs_label = fs->label;
    }
  }
  return nodes;
}

Result<int> WriteDevLinks(const std::string& dev_dir, const std::vector<DevLink>& links) {
  int made = 0;
  std::set<std::string> dirs;
  for (const auto& l : links) {
    std::string path = dev_dir + "/" + l.path;
    std::string dir = path.substr(0, path.rfind('/'));
    if (!dirs.count(dir)) {
      // mkdir -p below dev_dir
      for (size_t p = dev_dir.size() + 1; p <= dir.size(); ++p) {
        if (p != dir.size() && dir[p] != '/') continue;
        std::string d = dir.substr(0, p);
        if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST)
          return Status::Io(ErrnoMessage("creating " + d, errno));
      }
      dirs.insert(dir);
    }
    char buf[4096];
    ssize_t k = ::readlink(path.c_str(), buf, sizeof buf - 1);
    if (k >= 0 && std::string(buf, static_cast<size_t>(k)) == l.target) continue;
    if (k >= 0 || errno != ENOENT) ::unlink(path.c_str());
    if (::symlink(l.target.c_str(), path.c_str()) != 0)
      return Status::Io(ErrnoMessage("creating the link " + path + " -> " + l.target, errno));
    ++made;
  }
  return made;
}

}  // namespace ka::node
