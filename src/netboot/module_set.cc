// ModuleSet: dependency closure of kernel modules from modules.dep (see module_set.h).
#include "netboot/module_set.h"

#include <algorithm>
#include <deque>
#include <sstream>

namespace ka::netboot {

std::string NormalizeModuleName(const std::string& name) {
  std::string n = name;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

std::string ModuleNameOfPath(const std::string& path) {
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  for (const char* ext : {".ko.xz", ".ko.zst", ".ko.gz", ".ko"}) {
    std::string e = ext;
    if (base.size() > e.size() && base.compare(base.size() - e.size(), e.size(), e) == 0) {
      base.resize(base.size() - e.size());
      break;
    }
  }
  return NormalizeModuleName(base);
}

Result<ModulesDep> ModulesDep::Parse(const std::string& text) {
  ModulesDep dep;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0)
      return Status::Invalid("modules.dep line " + std::to_string(number) + " has no 'path:': " + line);
    Module m;
    m.path = line.substr(0, colon);
    std::istringstream rest(line.substr(colon + 1));
    std::string d;
    while (rest >> d) m.deps.push_back(d);
    std::string name = ModuleNameOfPath(m.path);
    dep.name_of_path_[m.path] = name;
    dep.modules_[name] = std::move(m);
  }
  return dep;
}

const ModulesDep::Module* ModulesDep::Find(const std::string& name) const {
  auto it = modules_.find(NormalizeModuleName(name));
  return it == modules_.end() ? nullptr : &it->second;
}

const std::string* ModulesDep::NameOfPath(const std::string& path) const {
  auto it = name_of_path_.find(path);
  return it == name_of_path_.end() ? nullptr : &it->second;
}

Result<ModuleSelection> SelectModules(const ModulesDep& dep, const std::vector<std::string>& requested,
                                      const std::set<std::string>& builtin) {
  ModuleSelection sel;
  std::set<std::string> paths, names;
  std::deque<std::string> todo;
  for (const auto& r : requested) {
    std::string n = NormalizeModuleName(r);
    if (dep.Find(n) != nullptr) {
      todo.push_back(n);
    } else if (builtin.count(n) > 0) {
      sel.builtin.push_back(n);
    } else {
      sel.missing.push_back(n);
    }
  }
  while (!todo.empty()) {
    std::string n = todo.front();
    todo.pop_front();
    if (!names.insert(n).second) continue;
    const auto* m = dep.Find(n);
    paths.insert(m->path);
    for (const auto& d : m->deps) {
      const std::string* dn = dep.NameOfPath(d);
      if (dn == nullptr)
        return Status::Invalid("modules.dep: " + m->path + " depends on " + d +
                               ", which has no line of its own; regenerate it with depmod");
      todo.push_back(*dn);
    }
  }
  sel.paths.assign(paths.begin(), paths.end());
  sel.names.assign(names.begin(), names.end());
  std::sort(sel.builtin.begin(), sel.builtin.end());
  sel.builtin.erase(std::unique(sel.builtin.begin(), sel.builtin.end()), sel.builtin.end());
  std::sort(sel.missing.begin(), sel.missing.end());
  sel.missing.erase(std::unique(sel.missing.begin(), sel.missing.end()), sel.missing.end());
  return sel;
}

std::set<std::string> ParseModulesBuiltin(const std::string& text) {
  std::set<std::string> names;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) names.insert(ModuleNameOfPath(line));
  return names;
}

const std::vector<std::string>& DefaultStage1Modules() {
  static const std::vector<std::string> kModules = {
      // network
      "virtio_pci", "virtio_net", "e1000", "e1000e", "igb", "igc", "ixgbe", "i40e", "ice", "r8169", "tg3",
      "bnxt_en", "vmxnet3", "mlx4_en", "mlx5_core", "af_packet",
      // storage
      "virtio_blk", "virtio_scsi", "sd_mod", "ahci", "ata_piix", "nvme", "megaraid_sas", "mpt3sas", "loop",
      // filesystems
      "crc32c_generic", "crc32c_intel", "ext4", "xfs", "btrfs", "vfat", "nls_cp437", "nls_iso8859_1", "nls_utf8",
      "nls_ascii", "efivarfs"};
  return kModules;
}

}  // namespace ka::netboot
