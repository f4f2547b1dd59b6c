#include "node/drivers.h"

#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "node/root_fs.h"
#include "util/log.h"

namespace ka::node {
namespace fs = std::filesystem;
namespace {

std::string ReadTrimmed(os::Env& env, const fs::path& p) {
  auto text = env.ReadFile(p.string());
  if (!text.ok()) return "";
  std::string s = std::move(*text);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  std::string x;
  while (in >> x) w.push_back(x);
  return w;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) lines.push_back(l);
  return lines;
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

bool StartsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// "alias eth0 e1000" / "alias scsi_hostadapter2 ahci": the golden's hardware.
bool IsHardwareAlias(const std::string& line) {
  auto w = Words(line);
  if (w.size() != 3 || w[0] != "alias") return false;
  if (StartsWith(w[1], "scsi_hostadapter")) {
    return w[1].find_first_not_of("0123456789", 16) == std::string::npos;
  }
  return StartsWith(w[1], "eth") && w[1].size() > 3 &&
         w[1].find_first_not_of("0123456789", 3) == std::string::npos;
}

}  // namespace

NodeHardware CollectHardware(os::Env& env, const std::string& sysfs_root, const std::string& disk_name) {
  NodeHardware hw;
  const fs::path sys(sysfs_root);                           // fs::path: names only; every access goes through env
  auto ifaces = env.ListDir((sys / "class/net").string());  // sorted
  for (const auto& n : ifaces.ok() ? *ifaces : std::vector<std::string>{}) {
    if (n == "lo") continue;
    std::string alias = ReadTrimmed(env, sys / "class/net" / n / "device/modalias");  // virtual ones have no device
    if (!alias.empty()) hw.network.emplace_back(n, alias);
  }

  if (disk_name.empty()) return hw;
  fs::path block = sys / "class/block" / disk_name;
  fs::path device = block / "device";
  if (!env.FileExists(device.string())) {
    auto real = env.ResolvePath(block.string());  // a partition: its disk is the parent directory
    if (real.ok()) device = fs::path(*real).parent_path() / "device";
  }
  auto cur_path = env.ResolvePath(device.string());
  auto top_path = env.ResolvePath((sys / "devices").string());
  if (!cur_path.ok() || !top_path.ok()) return hw;
  fs::path cur(*cur_path);
  const fs::path top(*top_path);
  const std::string top_s = top.string() + "/";
  while (StartsWith(cur.string() + "/", top_s) && cur != top) {
    std::string alias = ReadTrimmed(env, cur / "modalias");
    if (!alias.empty() && std::find(hw.storage.begin(), hw.storage.end(), alias) == hw.storage.end()) {
      hw.storage.push_back(alias);
    }
    ChainDevice d;
    d.modalias = alias;
    if (auto drv = env.ReadLink((cur / "driver").string()); drv.ok()) {
      d.driver = fs::path(*drv).filename().string();
      if (auto mod = env.ReadLink((cur / "driver/module").string()); mod.ok())
        d.module = fs::path(*mod).filename().string();
    }
    if (!d.modalias.empty() || !d.driver.empty()) hw.storage_chain.push_back(d);
    cur = cur.parent_path();
  }
  return hw;
}

std::vector<std::string> CollectModaliases(os::Env& env, const std::string& sysfs_root, const std::string& disk_name) {
  NodeHardware hw = CollectHardware(env, sysfs_root, disk_name);
  std::set<std::string> all(hw.storage.begin(), hw.storage.end());
  for (const auto& [iface, alias] : hw.network) all.insert(alias);
  return {all.begin(), all.end()};
}

namespace {

struct Alias {
  std::string pattern, module;
};

Result<std::vector<Alias>> ParseAliases(const std::string& text) {
  std::vector<Alias> v;
  int n = 0;
  for (const auto& line : SplitLines(text)) {
    ++n;
    auto w = Words(line);
    if (w.empty() || w[0][0] == '#') continue;
    if (w.size() != 3 || w[0] != "alias") {
      return Status::Corruption("modules.alias line " + std::to_string(n) + ": expected 'alias PATTERN MODULE', got '" +
                                line + "' (run depmod for that kernel in the golden system)");
    }
    v.push_back({w[1], w[2]});
  }
  return v;
}

std::vector<std::string> Match(const std::vector<Alias>& aliases, const std::string& modalias) {
  std::vector<std::string> mods;
  for (const auto& a : aliases) {
    if (::fnmatch(a.pattern.c_str(), modalias.c_str(), 0) == 0 &&
        std::find(mods.begin(), mods.end(), a.module) == mods.end()) {
      mods.push_back(a.module);
    }
  }
  return mods;
}

}  // namespace

Result<std::vector<std::string>> ResolveModules(const std::string& modules_alias_text,
                                                const std::vector<std::string>& modaliases) {
  auto aliases = ParseAliases(modules_alias_text);
  if (!aliases.ok()) return aliases.status();
  std::set<std::string> mods;
  for (const auto& m : modaliases)
    for (auto& mod : Match(*aliases, m)) mods.insert(mod);
  return std::vector<std::string>(mods.begin(), mods.end());
}

std::vector<std::string> NodeDrivers::All() const {
  std::set<std::string> all(storage.begin(), storage.end());
  for (const auto& [iface, mod] : network) all.insert(mod);
  return {all.begin(), all.end()};
}

Result<NodeDrivers> ResolveDrivers(const std::string& modules_alias_text, const NodeHardware& hw) {
  auto aliases = ParseAliases(modules_alias_text);
  if (!aliases.ok()) return aliases.status();
  NodeDrivers d;
  for (const auto& m : hw.storage)
    for (auto& mod : Match(*aliases, m))
      if (std::find(d.storage.begin(), d.storage.end(), mod) == d.storage.end()) d.storage.push_back(mod);
  for (const auto& [iface, m] : hw.network) {
    auto mods = Match(*aliases, m);
    if (!mods.empty()) d.network.emplace_back(iface, mods.front());
  }
  return d;
}

Result<std::string> ReadModulesAlias(const std::string& root, const std::string& kernel) {
  auto rfs = RootFs::Open(root);
  if (!rfs.ok()) return rfs.status();
  const std::string path = "/lib/modules/" + kernel + "/modules.alias";
  auto text = rfs->Read(path);
  if (!text.ok()) return text.status();
  if (!text->has_value()) return Status::Io(path + " is missing in " + root + ": run depmod " + kernel + " in the golden system");
  return **text;
}

const char* InitramfsKindName(InitramfsKind kind) {
  switch (kind) {
    case InitramfsKind::kInitramfsTools: return "initramfs-tools";
    case InitramfsKind::kDracut: return "dracut";
    case InitramfsKind::kMkinitrd: return "mkinitrd";
    case InitramfsKind::kNone: return "none";
  }
  return "?";
}

Result<InitramfsTool> DetectInitramfsTool(const std::string& root) {
  auto rfs = RootFs::Open(root);
  if (!rfs.ok()) return rfs.status();
  InitramfsTool t;
  auto first = [&](std::initializer_list<const char*> paths) -> std::string {
    for (const char* p : paths)
      if (rfs->IsFile(p)) return p;
    return "";
  };
  if (std::string p = first({"/usr/sbin/update-initramfs", "/sbin/update-initramfs"});
      !p.empty() && rfs->IsDir("/etc/initramfs-tools")) {
    t = {InitramfsKind::kInitramfsTools, p, {}};
  } else if (std::string d = first({"/usr/bin/dracut", "/usr/sbin/dracut", "/sbin/dracut"}); !d.empty()) {
    t = {InitramfsKind::kDracut, d, {}};
  } else if (std::string m = first({"/sbin/mkinitrd", "/usr/sbin/mkinitrd"}); !m.empty()) {
    t = {InitramfsKind::kMkinitrd, m, {}};
  }
  auto kernels = rfs->List("/lib/modules");
  if (!kernels.ok()) return kernels.status();
  for (const auto& k : *kernels) {
    if (rfs->IsFile("/lib/modules/" + k + "/modules.dep")) t.kernels.push_back(k);
  }
  return t;
}

Status AddInitramfsModules(const std::string& root, const InitramfsTool& tool, const NodeDrivers& drivers) {
  auto rfs = RootFs::Open(root);
  if (!rfs.ok()) return rfs.status();
  const std::vector<std::string> all = drivers.All();
  auto wrap = [&](const Status& s) { return s.Wrap(std::string("adding drivers to the ") + InitramfsKindName(tool.kind) +
                                                   " configuration in " + root); };
  switch (tool.kind) {
    case InitramfsKind::kNone: return Status::Ok();
    case InitramfsKind::kInitramfsTools: {
      const char path[] = "/etc/initramfs-tools/modules";
      auto text = rfs->Read(path);
      if (!text.ok()) return wrap(text.status());
      std::vector<std::string> lines = SplitLines(text->value_or(""));
      std::set<std::string> present;
      for (const auto& l : lines) {
        auto w = Words(l);
        if (!w.empty() && w[0][0] != '#') present.insert(w[0]);
      }
      const std::string header = "# Added by ka: drivers of this node's disk controller and network cards";
      bool added = false;
      for (const auto& m : all) {
        if (present.count(m) != 0) continue;
        if (!added && std::find(lines.begin(), lines.end(), header) == lines.end()) lines.push_back(header);
        lines.push_back(m);
        added = true;
      }
      if (!added) return Status::Ok();
      auto w = rfs->Write(path, JoinLines(lines), 0644);
      return w.ok() ? Status::Ok() : wrap(w.status());
    }
    case InitramfsKind::kDracut: {
      const char path[] = "/etc/dracut.conf.d/90-ka.conf";
      auto text = rfs->Read(path);
      if (!text.ok()) return wrap(text.status());
      std::set<std::string> mods(all.begin(), all.end());
      for (const auto& l : SplitLines(text->value_or(""))) {  // ours from an earlier run
        size_t q1 = l.find('"'), q2 = l.rfind('"');
        if (StartsWith(l, "add_drivers+=") && q1 != std::string::npos && q2 > q1)
          for (auto& m : Words(l.substr(q1 + 1, q2 - q1 - 1))) mods.insert(m);
      }
      if (mods.empty()) return Status::Ok();
      std::string list;
      for (const auto& m : mods) list += m + " ";
      auto made = rfs->MakeDirs("/etc/dracut.conf.d", 0755);
      if (!made.ok()) return wrap(made.status());
      auto w = rfs->Write(path,
                          "# Written by ka: drivers of this node's disk controller and network cards\n"
                          "add_drivers+=\" " + list + "\"\n",
                          0644);
      return w.ok() ? Status::Ok() : wrap(w.status());
    }
    case InitramfsKind::kMkinitrd: {
      const char path[] = "/etc/modprobe.conf";
      auto text = rfs->Read(path);
      if (!text.ok()) return wrap(text.status());
      std::vector<std::string> out;
      for (const auto& l : SplitLines(text->value_or(""))) {
        auto w = Words(l);
        bool storage = w.size() == 3 && StartsWith(w[1], "scsi_hostadapter");
        if (IsHardwareAlias(l) && ((storage && !drivers.storage.empty()) || (!storage && !drivers.network.empty())))
          continue;  // the golden's hardware, replaced below
        out.push_back(l);
      }
      for (size_t i = 0; i < drivers.network.size(); ++i)
        out.push_back("alias eth" + std::to_string(i) + " " + drivers.network[i].second);
      for (size_t i = 0; i < drivers.storage.size(); ++i)
        out.push_back("alias scsi_hostadapter" + (i == 0 ? std::string() : std::to_string(i)) + " " + drivers.storage[i]);
      auto w = rfs->Write(path, JoinLines(out), 0644);
      return w.ok() ? Status::Ok() : wrap(w.status());
    }
  }
  return Status::Ok();
}

Status RebuildInitramfs(os::Env& runner, const std::string& root, const InitramfsTool& tool,
                        const std::vector<std::string>& kernels, const std::vector<std::string>& extra_args) {
  if (tool.kind == InitramfsKind::kNone || kernels.empty()) return Status::Ok();
  const std::string what = std::string("rebuilding the initramfs in ") + root + " with " + InitramfsKindName(tool.kind);
  auto chroot = runner.Find("chroot", "coreutils");
  if (!chroot.ok()) return chroot.status().Wrap(what);
  auto rfs = RootFs::Open(root);
  if (!rfs.ok()) return rfs.status().Wrap(what);
  std::vector<std::vector<std::string>> cmds;
  for (const auto& k : kernels) {
    std::vector<std::string> a{*chroot, root, tool.path};
    if (tool.kind == InitramfsKind::kInitramfsTools) {
      a.insert(a.end(), {rfs->IsFile("/boot/initrd.img-" + k) ? "-u" : "-c", "-k", k});
      a.insert(a.end(), extra_args.begin(), extra_args.end());
    } else if (tool.kind == InitramfsKind::kDracut) {
      a.push_back("-f");
      a.insert(a.end(), extra_args.begin(), extra_args.end());
      a.insert(a.end(), {"/boot/initramfs-" + k + ".img", k});
    } else {
      a.insert(a.end(), extra_args.begin(), extra_args.end());
      a.insert(a.end(), {"-f", "/boot/initrd-" + k + ".img", k});
    }
    cmds.push_back(a);
  }
  for (const auto& c : cmds) {
    auto r = runner.Run(c);
    if (!r.ok()) return r.status().Wrap(what);
  }
  return Status::Ok();
}

}  // namespace ka::node
