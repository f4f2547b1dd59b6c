#include "layout/fake_disk.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <sstream>

#include "layout/part_name.h"
#include "util/strings.h"

namespace ka::layout {
namespace {

}  // namespace

Result<Table> ParseKaSfdiskScript(const std::string& script) {
  Table t;
  std::istringstream in(script);
  std::string line;
  while (std::getline(in, line)) {
    line = Trim(line);
    if (line.empty()) continue;
    size_t colon = line.find(" : ");
    if (colon == std::string::npos) {
      size_t c = line.find(':');
      if (c == std::string::npos) return Status::Invalid("fake sfdisk: bad line '" + line + "'");
      std::string k = Trim(line.substr(0, c)), v = Trim(line.substr(c + 1));
      if (k == "label")
        t.label = v == "gpt" ? TableLabel::kGpt : TableLabel::kMbr;
      else if (k == "label-id")
        t.id = v;
      continue;
    }
    std::string node = Trim(line.substr(0, colon));
    size_t k = node.size();
    while (k > 0 && std::isdigit(static_cast<unsigned char>(node[k - 1]))) --k;
    TableEntry e;
    e.number = std::stoi(node.substr(k));
    std::string fields = line.substr(colon + 3);
    std::stringstream fs(fields);
    std::string f;
    while (std::getline(fs, f, ',')) {
      f = Trim(f);
      size_t eq = f.find('=');
      std::string key = eq == std::string::npos ? f : f.substr(0, eq);
      std::string v = eq == std::string::npos ? "" : f.substr(eq + 1);
      if (!v.empty() && v.front() == '"') v = v.substr(1, v.size() - 2);
      if (key == "start")
        e.start = std::stoull(v);
      else if (key == "size")
        e.size = std::stoull(v);
      else if (key == "type")
        e.type = v;
      else if (key == "bootable")
        e.bootable = true;
      else if (key == "name")
        e.name = v;
      else if (key == "uuid")
        e.uuid = v;
      else if (key == "attrs") {
        e.attrs = v;
        e.bootable = v.find("LegacyBIOSBootable") != std::string::npos;
      }
    }
    t.entries.push_back(e);
  }
  std::sort(t.entries.begin(), t.entries.end(),
            [](const TableEntry& a, const TableEntry& b) { return a.number < b.number; });
  return t;
}

FakeDiskOps::Disk& FakeDiskOps::AddDisk(const std::string& path, uint64_t size_bytes, bool image,
                                        uint64_t sector_size) {
  Disk d;
  d.info.path = path;
  d.info.block_device = !image;
  d.info.geometry = {size_bytes, sector_size};
  return disks_[path] = d;
}

bool FakeDiskOps::wrote_anything() const {
  for (const auto& c : calls)
    if (c.rfind("WriteTable", 0) == 0 || c.rfind("Wipe", 0) == 0 || c.rfind("AttachLoop", 0) == 0 ||
        c.rfind("DetachLoop", 0) == 0 || c.rfind("UpdateKernelPartitions", 0) == 0 ||
        c.rfind("ForgetKernelPartitions", 0) == 0)
      return true;
  return false;
}

std::vector<LoopDevice> FakeDiskOps::loops() const {
  std::vector<LoopDevice> v;
  for (const auto& [dev, l] : loops_) v.push_back(l.second);
  return v;
}

Result<FakeDiskOps::Disk*> FakeDiskOps::Find(const std::string& path) {
  auto it = disks_.find(path);
  if (it == disks_.end()) return Status::Invalid(path + ": No such file or directory");
  return &it->second;
}

Result<DiskInfo> FakeDiskOps::Inspect(const std::string& disk) {
  calls.push_back("Inspect " + disk);
  auto d = Find(disk);
  if (!d.ok()) return d.status();
  return (*d)->info;
}

Result<std::string> FakeDiskOps::ReadTableJson(const std::string& disk) {
  calls.push_back("ReadTableJson " + disk);
  auto d = Find(disk);
  if (!d.ok()) return d.status();
  if (!(*d)->has_table) return std::string();
  const Table& t = (*d)->table;
  nlohmann::json pt;
  pt["label"] = t.label == TableLabel::kGpt ? "gpt" : "dos";
  pt["id"] = t.id;
  pt["device"] = disk;
  pt["unit"] = "sectors";
  pt["sectorsize"] = (*d)->info.geometry.sector_size;
  pt["partitions"] = nlohmann::json::array();
  for (const auto& e : t.entries) {
    nlohmann::json p;
    p["node"] = PartitionNodeName(disk, e.number);
    p["start"] = e.start;
    p["size"] = e.size;
    p["type"] = e.type;
    if (t.label == TableLabel::kMbr && e.bootable) p["bootable"] = true;
    if (t.label == TableLabel::kGpt) {
      p["uuid"] = e.uuid;
      if (!e.name.empty()) p["name"] = e.name;
      if (e.bootable) p["attrs"] = "LegacyBIOSBootable";
    }
    pt["partitions"].push_back(p);
  }
  nlohmann::json j;
  j["partitiontable"] = pt;
  return j.dump(3);
}

Status FakeDiskOps::CheckScript(const std::string& disk, const std::string& script) {
  calls.push_back("CheckScript " + disk);
  auto t = ParseKaSfdiskScript(script);
  if (!t.ok()) return t.status();
  return check_script_result;
}

Status FakeDiskOps::WriteTable(const std::string& disk, const std::string& script) {
  calls.push_back("WriteTable " + disk);
  if (!write_result.ok()) return write_result;
  auto d = Find(disk);
  if (!d.ok()) return d.status();
  auto t = ParseKaSfdiskScript(script);
  if (!t.ok()) return t.status();
  t->sector_size = (*d)->info.geometry.sector_size;
  if (t->id.empty()) t->id = t->label == TableLabel::kGpt ? "11111111-2222-3333-4444-555555555555" : "0x12345678";
  int n = 0;
  for (auto& e : t->entries)
    if (t->label == TableLabel::kGpt && e.uuid.empty()) {
      char b[40];
      std::snprintf(b, sizeof b, "AAAAAAAA-0000-0000-0000-%012d", ++n);
      e.uuid = b;
    }
  (*d)->table = *t;
  (*d)->has_table = true;
  return Status::Ok();
}

Status FakeDiskOps::WipeSignatures(const std::string& disk) {
  calls.push_back("WipeSignatures " + disk);
  auto d = Find(disk);
  if (!d.ok()) return d.status();
  (*d)->has_table = false;
  (*d)->table = {};
  return Status::Ok();
}

std::vector<std::string> FakeDiskOps::Users(const DiskInfo& disk) {
  calls.push_back("Users " + disk.path);
  return users;
}

Status FakeDiskOps::UpdateKernelPartitions(const std::string& disk) {
  calls.push_back("UpdateKernelPartitions " + disk);
  auto d = Find(disk);
  if (!d.ok()) return d.status();
  if (!kernel_knows_partitions) return Status::Io("partx --update " + disk + " exited with status 1");
  kernel_[disk] = (*d)->table;
  return Status::Ok();
}

Status FakeDiskOps::ForgetKernelPartitions(const std::string& disk) {
  calls.push_back("ForgetKernelPartitions " + disk);
  kernel_.erase(disk);
  return Status::Ok();
}

std::optional<KernelPartition> FakeDiskOps::KernelPartitionOf(const std::string& disk, int number) {
  auto it = kernel_.find(disk);
  if (it == kernel_.end()) return std::nullopt;
  for (const auto& e : it->second.entries) {
    if (e.number != number) continue;
    uint64_t f = it->second.sector_size / 512;
    return KernelPartition{PartitionNodeName(disk, number), e.start * f, e.size * f, partition_nodes_appear};
  }
  return std::nullopt;
}

Result<std::string> FakeDiskOps::AttachLoop(const std::string& backing, uint64_t offset, uint64_t size) {
  std::string dev = "/dev/loop" + std::to_string(next_loop_++);
  calls.push_back("AttachLoop " + backing + " " + std::to_string(offset) + " " + std::to_string(size) + " -> " + dev);
  loops_[dev] = {backing, LoopDevice{dev, offset, size}};
  return dev;
}

Status FakeDiskOps::DetachLoop(const std::string& device) {
  calls.push_back("DetachLoop " + device);
  if (loops_.erase(device) == 0) return Status::Io("losetup --detach " + device + ": no such loop device");
  return Status::Ok();
}

std::vector<LoopDevice> FakeDiskOps::LoopsBackedBy(const std::string& path) {
  std::vector<LoopDevice> v;
  for (const auto& [dev, l] : loops_)
    if (l.first == path) v.push_back(l.second);
  return v;
}

Result<FsInfo> FakeDiskOps::ProbeFilesystem(const std::string& disk, uint64_t offset, uint64_t size) {
  calls.push_back("ProbeFilesystem " + disk + " " + std::to_string(offset) + " " + std::to_string(size));
  auto d = Find(disk);
  if (!d.ok()) return d.status();
  auto it = (*d)->filesystems.find(offset);
  return it == (*d)->filesystems.end() ? FsInfo{} : it->second;
}

void FakeDiskOps::Pause(std::chrono::milliseconds) { ++pauses; }

}  // namespace ka::layout
