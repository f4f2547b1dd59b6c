#include "testing/fake_env.h"

#include <optional>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <nlohmann/json.hpp>
#include <sstream>

#include "layout/table.h"
#include "os/part_name.h"
#include "util/strings.h"

namespace ka::os {
namespace {

using layout::Table;
using layout::TableEntry;
using layout::TableLabel;

// Parses the sfdisk scripts layout::SfdiskScript writes (the fake's sfdisk).
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

}  // namespace

FakeEnv::Disk& FakeEnv::AddDisk(const std::string& path, uint64_t size_bytes, bool image,
                                        uint64_t sector_size) {
  Disk d;
  d.info.path = path;
  d.info.block_device = !image;
  d.info.geometry = {size_bytes, sector_size};
  return disks_[path] = d;
}

bool FakeEnv::wrote_anything() const {
  for (const auto& c : disk_calls)
    if (c.rfind("WriteTable", 0) == 0 || c.rfind("Wipe", 0) == 0 || c.rfind("AttachLoop", 0) == 0 ||
        c.rfind("DetachLoop", 0) == 0 || c.rfind("UpdateKernelPartitions", 0) == 0 ||
        c.rfind("ForgetKernelPartitions", 0) == 0)
      return true;
  return false;
}

std::vector<LoopDevice> FakeEnv::loops() const {
  std::vector<LoopDevice> v;
  for (const auto& [dev, l] : loops_) v.push_back(l.second);
  return v;
}

Result<FakeEnv::Disk*> FakeEnv::FindDisk(const std::string& path) {
  auto it = disks_.find(path);
  if (it == disks_.end()) return Status::Invalid(path + ": No such file or directory");
  return &it->second;
}

Result<DiskInfo> FakeEnv::Inspect(const std::string& disk) {
  disk_calls.push_back("Inspect " + disk);
  auto d = FindDisk(disk);
  if (!d.ok()) return d.status();
  return (*d)->info;
}

Result<std::string> FakeEnv::ReadTableJson(const std::string& disk) {
  disk_calls.push_back("ReadTableJson " + disk);
  auto d = FindDisk(disk);
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

Status FakeEnv::CheckScript(const std::string& disk, const std::string& script) {
  disk_calls.push_back("CheckScript " + disk);
  auto t = ParseKaSfdiskScript(script);
  if (!t.ok()) return t.status();
  return check_script_result;
}

Status FakeEnv::WriteTable(const std::string& disk, const std::string& script) {
  disk_calls.push_back("WriteTable " + disk);
  if (!write_result.ok()) return write_result;
  auto d = FindDisk(disk);
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

Status FakeEnv::WipeSignatures(const std::string& disk) {
  disk_calls.push_back("WipeSignatures " + disk);
  auto d = FindDisk(disk);
  if (!d.ok()) return d.status();
  (*d)->has_table = false;
  (*d)->table = {};
  return Status::Ok();
}

std::vector<std::string> FakeEnv::Users(const DiskInfo& disk) {
  disk_calls.push_back("Users " + disk.path);
  return users;
}

Status FakeEnv::UpdateKernelPartitions(const std::string& disk) {
  disk_calls.push_back("UpdateKernelPartitions " + disk);
  auto d = FindDisk(disk);
  if (!d.ok()) return d.status();
  if (!kernel_knows_partitions) return Status::Io("partx --update " + disk + " exited with status 1");
  kernel_[disk] = (*d)->table;
  return Status::Ok();
}

Status FakeEnv::ForgetKernelPartitions(const std::string& disk) {
  disk_calls.push_back("ForgetKernelPartitions " + disk);
  kernel_.erase(disk);
  return Status::Ok();
}

std::optional<KernelPartition> FakeEnv::KernelPartitionOf(const std::string& disk, int number) {
  auto it = kernel_.find(disk);
  if (it == kernel_.end()) return std::nullopt;
  for (const auto& e : it->second.entries) {
    if (e.number != number) continue;
    uint64_t f = it->second.sector_size / 512;
    // Device numbers as for a SCSI disk: 8, 16 * (disk index) + number.
    return KernelPartition{PartitionNodeName(disk, number), e.start * f, e.size * f,
                           partition_nodes_appear,          8,           static_cast<unsigned>(number)};
  }
  return std::nullopt;
}

Result<std::string> FakeEnv::AttachLoop(const std::string& backing, uint64_t offset, uint64_t size, bool read_only) {
  std::string dev = "/dev/loop" + std::to_string(next_loop_++);
  disk_calls.push_back("AttachLoop " + backing + " " + std::to_string(offset) + " " + std::to_string(size) +
                       (read_only ? " read-only" : "") + " -> " + dev);
  loops_[dev] = {backing, LoopDevice{dev, offset, size}};
  return dev;
}

Status FakeEnv::DetachLoop(const std::string& device) {
  disk_calls.push_back("DetachLoop " + device);
  if (loops_.erase(device) == 0) return Status::Io("losetup --detach " + device + ": no such loop device");
  return Status::Ok();
}

std::vector<LoopDevice> FakeEnv::LoopsBackedBy(const std::string& path) {
  std::vector<LoopDevice> v;
  for (const auto& [dev, l] : loops_)
    if (l.first == path) v.push_back(l.second);
  return v;
}

Result<FsInfo> FakeEnv::ProbeFilesystem(const std::string& disk, uint64_t offset, uint64_t size) {
  disk_calls.push_back("ProbeFilesystem " + disk + " " + std::to_string(offset) + " " + std::to_string(size));
  auto d = FindDisk(disk);
  if (!d.ok()) return d.status();
  auto it = (*d)->filesystems.find(offset);
  return it == (*d)->filesystems.end() ? os::FsInfo{} : it->second;
}

void FakeEnv::Pause(std::chrono::milliseconds d) {
  ++pauses;
  paused += d;
}

// Processes.

void FakeEnv::Script(std::vector<std::string> prefix, ToolOutput output) {
  answers_.push_back({std::move(prefix), false, true, std::move(output), {}});
}

void FakeEnv::ScriptOnce(std::vector<std::string> prefix, ToolOutput output) {
  answers_.push_back({std::move(prefix), true, true, std::move(output), {}});
}

void FakeEnv::ScriptStartFailure(std::vector<std::string> prefix, Status status) {
  answers_.push_back({std::move(prefix), false, false, {}, std::move(status)});
}

const FakeEnv::Answer* FakeEnv::Match(const std::vector<std::string>& argv) {
  auto matches = [&argv](const Answer& a) {
    return a.prefix.size() <= argv.size() && std::equal(a.prefix.begin(), a.prefix.end(), argv.begin());
  };
  for (auto it = answers_.begin(); it != answers_.end(); ++it) {
    if (!it->once || !matches(*it)) continue;
    consumed_ = *it;
    answers_.erase(it);
    return &consumed_;
  }
  const Answer* best = nullptr;
  for (const auto& a : answers_) {
    if (matches(a) && (best == nullptr || a.prefix.size() >= best->prefix.size())) best = &a;
  }
  return best;
}

std::vector<std::vector<std::string>> FakeEnv::argvs() const {
  std::vector<std::vector<std::string>> v;
  for (const auto& c : runs) v.push_back(c.argv);
  return v;
}

Result<ToolOutput> FakeEnv::Run(const std::vector<std::string>& argv, const std::string& input) {
  runs.push_back({argv, input});
  // A copy: on_run may change the script (the answers after this one).
  const Answer* match = Match(argv);
  std::optional<Answer> best;
  if (match != nullptr) best = *match;
  if (on_run) on_run(argv);
  if (!best) return ToolOutput{};
  if (!best->starts) return best->start_failure;
  if (best->output.exit_code != 0) return ToolFailure(argv, best->output);
  return best->output;
}

int FakeEnv::RunAttached(const std::vector<std::string>& argv) {
  runs.push_back({argv, {}, true});
  const Answer* match = Match(argv);
  std::optional<Answer> best;
  if (match != nullptr) best = *match;
  if (on_run) on_run(argv);
  if (!best) return 0;
  return best->starts ? best->output.exit_code : -1;
}

Status FakeEnv::PowerAction(const std::string& action) {
  power_actions.push_back(action);
  return Status::Io("the test system cannot " + action);
}

Result<std::string> FakeEnv::Find(const std::string& tool, const std::string& debian_package) {
  if (missing_tools.count(tool) != 0) {
    return Status::Io(tool + " not found in /usr/sbin, /sbin, /usr/bin or /bin: install the Debian package " +
                      debian_package + " (scripts/setup.sh does)");
  }
  auto it = tool_paths.find(tool);
  return it != tool_paths.end() ? it->second : "/usr/sbin/" + tool;
}

// Mounts.

Status FakeEnv::Mount(const std::string& source, const std::string& target, const std::string& fstype,
                          unsigned long flags, const std::string& data) {
  std::string c;
  if ((flags & MS_PRIVATE) != 0) {
    c = "private " + target;
  } else if ((flags & MS_BIND) != 0) {
    c = std::string((flags & MS_REC) != 0 ? "rbind " : "bind ") + source + " " + target;
  } else {
    std::string opts;
    if ((flags & MS_RDONLY) != 0) opts += "ro,";
    if ((flags & MS_NOSUID) != 0) opts += "nosuid,";
    if ((flags & MS_NODEV) != 0) opts += "nodev,";
    if (!opts.empty()) opts.pop_back();
    c = fstype + " " + target + (opts.empty() ? "" : " " + opts) + (data.empty() ? "" : " " + data);
  }
  mount_calls.push_back(c);
  if ((target == fail_mount || fail_fstypes.count(fstype) != 0) && (flags & MS_PRIVATE) == 0)
    return Status::Io("mount " + target + ": No such device");
  return Status::Ok();
}

Status FakeEnv::Unmount(const std::string& target, int flags) {
  const bool lazy = (flags & MNT_DETACH) != 0;
  mount_calls.push_back((lazy ? "umount-lazy " : "umount ") + target);
  if (stuck.count(target) != 0 || (!lazy && busy.count(target) != 0)) {
    return Status::Io("unmount " + target + ": Device or resource busy");
  }
  return Status::Ok();
}

Status FakeEnv::MakeNode(const std::string& path, mode_t mode, unsigned major, unsigned minor) {
  char perm[8];
  std::snprintf(perm, sizeof perm, "%o", mode & 07777);
  mount_calls.push_back("mknod " + path + (S_ISBLK(mode) ? " b " : " c ") + std::to_string(major) + ":" +
                  std::to_string(minor) + " " + perm);
  if (path == fail_mount) return Status::Io("mknod " + path + ": Operation not permitted");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) ::close(fd);
  return Status::Ok();
}

}  // namespace ka::os
