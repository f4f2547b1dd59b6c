// ModuleSet: which kernel modules go into stage1, from the kernel's modules.dep
// text: the requested names plus every module they depend on (pure logic, no
// files touched). Module names compare as the kernel does: '-' and '_' are the
// same ("crc32c-intel" is "crc32c_intel").
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "util/status.h"

namespace ka::netboot {

// "kernel/drivers/net/virtio_net.ko" -> "virtio_net"; also .ko.xz/.ko.zst/.ko.gz.
std::string ModuleNameOfPath(const std::string& path);
// '-' -> '_'.
std::string NormalizeModuleName(const std::string& name);

// modules.dep parsed: module name -> its path and the paths it depends on.
class ModulesDep {
 public:
  static Result<ModulesDep> Parse(const std::string& text);
  struct Module {
    std::string path;               // relative to /lib/modules/VERSION
    std::vector<std::string> deps;  // paths, as listed
  };
  const Module* Find(const std::string& name) const;
  // The module name of a path listed in modules.dep, nullptr if it has no line.
  const std::string* NameOfPath(const std::string& path) const;
  size_t size() const { return modules_.size(); }

 private:
  std::map<std::string, Module> modules_;  // by normalized name
  std::map<std::string, std::string> name_of_path_;
};

struct ModuleSelection {
  std::vector<std::string> paths;     // sorted, every selected module file with its dependencies
  std::vector<std::string> names;     // sorted, normalized names of `paths`
  std::vector<std::string> builtin;   // requested but built into the kernel (nothing to copy)
  std::vector<std::string> missing;   // requested but neither a module nor built in
};

// The requested modules and their dependency closure. `builtin` holds the names
// from modules.builtin (normalized). A dependency path that has no entry of its
// own in modules.dep is an error (a corrupt modules.dep).
Result<ModuleSelection> SelectModules(const ModulesDep& dep, const std::vector<std::string>& requested,
                                      const std::set<std::string>& builtin);

// Names in a modules.builtin text ("kernel/fs/ext4/ext4.ko" lines), normalized.
std::set<std::string> ParseModulesBuiltin(const std::string& text);

// The modules stage1 loads by default: network, storage and filesystem drivers.
const std::vector<std::string>& DefaultStage1Modules();

}  // namespace ka::netboot
