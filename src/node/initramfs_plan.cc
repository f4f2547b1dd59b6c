#include "node/initramfs_plan.h"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "node/initramfs_contents.h"
#include "node/root_fs.h"
#include "util/strings.h"

namespace ka::node {
namespace {

// "kernel/drivers/nvme/host/nvme-core.ko.xz" -> "nvme_core"
std::string NameOfPath(const std::string& path) {
  std::string base = path.substr(path.rfind('/') + 1);
  size_t ko = base.find(".ko");
  if (ko != std::string::npos) base.resize(ko);
  return ModuleName(base);
}

void AddWithDeps(const KernelModules& k, const std::string& m, std::set<std::string>* out) {
  if (!out->insert(m).second) return;
  auto it = k.deps.find(m);
  if (it == k.deps.end()) return;
  for (const auto& d : it->second) AddWithDeps(k, d, out);
}

}  // namespace

KernelModules ParseKernelModules(const std::string& kernel, const std::string& modules_dep,
                                 const std::string& modules_builtin, const std::string& modules_alias) {
  KernelModules k;
  k.kernel = kernel;
  k.aliases = modules_alias;
  std::istringstream dep(modules_dep);
  for (std::string line; std::getline(dep, line);) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::vector<std::string>& deps = k.deps[NameOfPath(Trim(line.substr(0, colon)))];
    std::istringstream rest(line.substr(colon + 1));
    for (std::string d; rest >> d;) deps.push_back(NameOfPath(d));
  }
  std::istringstream builtin(modules_builtin);
  for (std::string line; std::getline(builtin, line);)
    if (!Trim(line).empty()) k.builtin.insert(NameOfPath(Trim(line)));
  return k;
}

Result<KernelModules> ReadKernelModules(const std::string& root, const std::string& kernel) {
  auto rfs = RootFs::Open(root);
  if (!rfs.ok()) return rfs.status();
  const std::string dir = "/lib/modules/" + kernel + "/";
  auto dep = rfs->Read(dir + "modules.dep");
  if (!dep.ok()) return dep.status();
  if (!dep->has_value())
    return Status::Io(dir + "modules.dep is missing in the image: run depmod " + kernel + " in the golden system");
  auto builtin = rfs->Read(dir + "modules.builtin");
  if (!builtin.ok()) return builtin.status();
  auto alias = rfs->Read(dir + "modules.alias");
  if (!alias.ok()) return alias.status();
  return ParseKernelModules(kernel, **dep, builtin->value_or(""), alias->value_or(""));
}

Result<std::vector<std::string>> DiskModules(const NodeHardware& hw, const KernelModules& k) {
  std::set<std::string> out;
  for (const auto& d : hw.storage_chain) {
    if (d.driver.empty()) continue;  // not needed to reach the disk
    const std::string mod = ModuleName(d.module);
    if (!mod.empty() && k.builtin.count(mod)) continue;
    if (!mod.empty() && k.Has(mod)) {
      AddWithDeps(k, mod, &out);
      continue;
    }
    const std::string drv = ModuleName(d.driver);
    if (k.builtin.count(drv)) continue;
    if (k.Has(drv)) {  // a driver named like its module, built into the node's kernel
      AddWithDeps(k, drv, &out);
      continue;
    }
    if (d.modalias.empty()) continue;
    auto matched = ResolveModules(k.aliases, {d.modalias});
    if (!matched.ok()) return matched.status().Wrap("kernel " + k.kernel);
    for (const auto& m : *matched)
      if (!k.builtin.count(m)) AddWithDeps(k, m, &out);
  }
  return std::vector<std::string>(out.begin(), out.end());
}

std::string InitramfsImagePath(InitramfsKind kind, const std::string& kernel) {
  switch (kind) {
    case InitramfsKind::kInitramfsTools: return "/boot/initrd.img-" + kernel;
    case InitramfsKind::kDracut: return "/boot/initramfs-" + kernel + ".img";
    case InitramfsKind::kMkinitrd: return "/boot/initrd-" + kernel + ".img";
    case InitramfsKind::kNone: return "";
  }
  return "";
}

std::string InitramfsCheck::Explain(const std::string& disk) const {
  const std::string of = "this node's disk" + (disk.empty() ? std::string() : " (" + disk + ")");
  if (!image_exists) return fmt::format("kernel {}: {} does not exist: building it", kernel, image);
  if (!missing.empty())
    return fmt::format("kernel {}: {} lacks {} that {} needs: rebuilding it", kernel, image, fmt::join(missing, " "),
                       of);
  if (needed.empty())
    return fmt::format("kernel {}: {} needs no module of this kernel (a loop device, or drivers built in): {} not "
                       "rebuilt",
                       kernel, of, image);
  return fmt::format("kernel {}: {} already holds the {} module(s) {} needs ({}): not rebuilt", kernel, image,
                     needed.size(), of, fmt::join(needed, " "));
}

Result<InitramfsCheck> CheckInitramfs(const std::string& root, InitramfsKind kind, const std::string& kernel,
                                      const NodeHardware& hw) {
  InitramfsCheck c;
  c.kernel = kernel;
  c.image = InitramfsImagePath(kind, kernel);
  auto k = ReadKernelModules(root, kernel);
  if (!k.ok()) return k.status();
  auto needed = DiskModules(hw, *k);
  if (!needed.ok()) return needed.status();
  c.needed = *needed;
  auto rfs = RootFs::Open(root);
  if (!rfs.ok()) return rfs.status();
  auto e = rfs->Resolve(c.image);
  if (!e.ok()) return e.status();
  c.image_exists = e->is_file();
  if (!c.image_exists || c.needed.empty()) return c;
  auto paths = ListInitramfs(e->host);
  if (!paths.ok()) return paths.status().Wrap("listing the image's initramfs");
  std::set<std::string> held = InitramfsModules(*paths);
  for (const auto& m : c.needed)
    if (!held.count(m)) c.missing.push_back(m);
  return c;
}

std::string InitramfsToolsModulesSetting(const std::string& root) {
  auto rfs = RootFs::Open(root);
  if (!rfs.ok()) return "most";
  std::string value = "most";
  auto scan = [&](const std::string& path) {
    auto text = rfs->Read(path);
    if (!text.ok() || !text->has_value()) return;
    std::istringstream in(**text);
    for (std::string line; std::getline(in, line);) {
      std::string t = Trim(line);
      if (t.rfind("MODULES=", 0) != 0) continue;
      std::string v = t.substr(8);
      v.erase(std::remove(v.begin(), v.end(), '"'), v.end());
      v.erase(std::remove(v.begin(), v.end(), '\''), v.end());
      value = Trim(v);
    }
  };
  scan("/etc/initramfs-tools/initramfs.conf");
  auto confd = rfs->List("/etc/initramfs-tools/conf.d");
  if (confd.ok())
    for (const auto& f : *confd) scan("/etc/initramfs-tools/conf.d/" + f);
  return value;
}

}  // namespace ka::node
