#include "node/finish.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <chrono>
#include <sstream>

#include "node/boot_config_check.h"
#include "node/bootloader.h"
#include "node/chroot.h"
#include "node/drivers.h"
#include "node/efi_entry.h"
#include "node/individualise.h"
#include "node/initramfs_plan.h"
#include "node/root_fs.h"
#include "os/env.h"
#include "util/fd.h"
#include "util/log.h"

#include <fmt/ranges.h>

namespace ka::node {

namespace {

std::vector<std::string> SplitWords(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

Status EnsureExcludedDirs(const std::string& root, const format::Manifest& m) {
  for (const auto& p : m.partitions) {
    if (p.method != format::Method::kTree || p.mount.empty()) continue;
    std::string base = p.mount == "/" ? root : root + p.mount;
    for (const auto& rel : p.exclude) {
      std::string path = base + "/" + rel;
      struct stat st {};
      if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
      if (::mkdir(path.c_str(), 0755) != 0)
        return Status::Io("re-creating the excluded directory " + p.mount + "/" + rel + ": " + std::strerror(errno));
      LogWarn("the excluded directory {}/{} was missing from the stream; re-created with mode 0755", p.mount, rel);
    }
  }
  return Status::Ok();
}

Status WriteBootCode(const std::string& disk, const std::string& hex) {
  std::string code;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) code += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  // Bytes 440-445 are the disk signature and a reserved word: they belong to the
  // table just written (PARTUUIDs are made from the signature) and stay.
  if (code.size() > 440) code.resize(440);
  UniqueFd fd(::open(disk.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::Io("writing the boot code: cannot open " + disk + ": " + std::strerror(errno));
  if (::pwrite(fd.get(), code.data(), code.size(), 0) != static_cast<ssize_t>(code.size()) || ::fsync(fd.get()) != 0)
    return Status::Io("writing the boot code to " + disk + ": " + std::strerror(errno));
  LogInfo("wrote {} bytes of boot code to {}", code.size(), disk);
  return Status::Ok();
}

std::string DiskName(const std::string& disk) {
  if (disk.rfind("/dev/", 0) != 0) return {};  // an image file: no hardware
  return disk.substr(5);
}

// Seed style (mkinitrd): /etc/modprobe.conf names the node's disk and network
// drivers for the running system too, so it is written on every node.
Status MkinitrdModprobeConf(const std::string& root, const InitramfsTool& tool, const NodeHardware& hw) {
  NodeDrivers all;
  for (const auto& k : tool.kernels) {
    auto alias = ReadModulesAlias(root, k);
    if (!alias.ok()) return alias.status();
    auto d = ResolveDrivers(alias.value(), hw);
    if (!d.ok()) return d.status().Wrap("kernel " + k);
    for (const auto& x : d->storage)
      if (std::find(all.storage.begin(), all.storage.end(), x) == all.storage.end()) all.storage.push_back(x);
    for (const auto& n : d->network)
      if (std::find(all.network.begin(), all.network.end(), n) == all.network.end()) all.network.push_back(n);
  }
  LogInfo("drivers for this node (modprobe.conf): {}", fmt::join(all.All(), " "));
  return AddInitramfsModules(root, tool, all);
}

// On real hardware, initramfs-tools' smallest sensible setting for this node is
// MODULES=dep (the drivers of the machine it runs on, here the chroot whose /dev
// and mounts are this node's); the golden's "most" (every driver) is what took
// minutes under emulation. Kept in the clone: it is this node's system now.
Status PreferModulesDep(const std::string& root) {
  const std::string setting = InitramfsToolsModulesSetting(root);
  if (setting != "most") {
    LogInfo("initramfs: the image's initramfs-tools setting MODULES={} is kept for the rebuild", setting);
    return Status::Ok();
  }
  auto rfs = RootFs::Open(root);
  if (!rfs.ok()) return rfs.status();
  auto w = rfs->Write("/etc/initramfs-tools/conf.d/ka-node",
                      "# Written by ka when this node was cloned: its initramfs holds the drivers of this node's\n"
                      "# hardware only (the golden's MODULES=most holds every driver and takes minutes to build).\n"
                      "MODULES=dep\n",
                      0644);
  if (!w.ok()) return w.status();
  LogInfo("initramfs: rebuilt with MODULES=dep (/etc/initramfs-tools/conf.d/ka-node) instead of the image's "
          "MODULES=most: only this node's drivers");
  return Status::Ok();
}

Status Drivers(Target& t, const std::string& root, const format::Manifest& m, os::Env& runner) {
  auto tool = DetectInitramfsTool(root);
  if (!tool.ok()) return tool.status();
  if (tool->kind == InitramfsKind::kNone || tool->kernels.empty()) {
    LogInfo("initramfs: the image has {}; its initramfs is left as it is",
            tool->kind == InitramfsKind::kNone ? "no initramfs tool" : "no kernel modules");
    return Status::Ok();
  }
  const std::string disk_name = DiskName(t.disk());
  NodeHardware hw = CollectHardware(runner, "/sys", disk_name);
  std::vector<std::string> drivers;
  for (const auto& d : hw.storage_chain)
    if (!d.driver.empty()) drivers.push_back(d.driver + (d.module.empty() ? "" : "(" + d.module + ")"));
  LogInfo("initramfs: this node reaches {} through {} ({} tool: {})", t.disk(),
          drivers.empty() ? std::string("no driver of its own") : fmt::format("{}", fmt::join(drivers, " ")),
          InitramfsKindName(tool->kind), tool->path);
  if (tool->kind == InitramfsKind::kMkinitrd) KA_RETURN_IF_ERROR(MkinitrdModprobeConf(root, *tool, hw));
  std::vector<std::string> rebuild, missing;
  for (const auto& k : tool->kernels) {
    auto c = CheckInitramfs(root, tool->kind, k, hw);
    if (!c.ok()) return c.status();
    LogInfo("initramfs: {}", c->Explain(disk_name));
    if (!c->rebuild()) continue;
    rebuild.push_back(k);
    for (const auto& x : c->missing)
      if (std::find(missing.begin(), missing.end(), x) == missing.end()) missing.push_back(x);
  }
  if (rebuild.empty()) {
    LogInfo("initramfs: not rebuilt: every kernel's initramfs already reaches this node's disk");
    return Status::Ok();
  }
  if (tool->kind != InitramfsKind::kMkinitrd && !missing.empty())
    KA_RETURN_IF_ERROR(AddInitramfsModules(root, *tool, NodeDrivers{missing, {}}));
  if (tool->kind == InitramfsKind::kInitramfsTools && !drivers.empty()) KA_RETURN_IF_ERROR(PreferModulesDep(root));
  auto nodes = t.DiskNodes();
  if (!nodes.ok()) return nodes.status().Wrap("describing " + t.disk() + " for the chroot");
  os::Env& mounter = os::DefaultEnv();
  auto mounts = ChrootMounts::Setup(root, mounter, *nodes);
  if (!mounts.ok()) return mounts.status();
  Status s = RebuildInitramfs(runner, root, *tool, rebuild, SplitWords(m.initramfs_options));
  Status r = (*mounts)->Release();
  if (!s.ok()) return s;
  KA_RETURN_IF_ERROR(r);
  for (const auto& k : rebuild) {  // the rebuilt images must now reach the disk
    auto c = CheckInitramfs(root, tool->kind, k, hw);
    if (!c.ok()) return c.status().Wrap("checking the rebuilt initramfs");
    if (c->rebuild())
      return Status::Io("the rebuilt " + c->image + (c->image_exists ? " still lacks " + fmt::format("{}", fmt::join(c->missing, " ")) : " was not written") +
                        ", which this node's disk needs: see the " + InitramfsKindName(tool->kind) +
                        " output above and the image's configuration");
    LogInfo("initramfs: {} rebuilt{}", c->image,
            c->needed.empty() ? std::string() : fmt::format("; it holds {}", fmt::join(c->needed, " ")));
  }
  return Status::Ok();
}

// The EFI executables under ESP/EFI and its vendor directories, as paths from the ESP's root.
std::vector<std::string> EspFiles(os::Env& env, const std::string& esp) {
  std::vector<std::string> files;
  auto top = env.ListDir(esp + "/EFI");
  if (!top.ok()) return files;
  for (const auto& dir : *top) {
    auto names = env.ListDir(esp + "/EFI/" + dir);
    if (!names.ok()) continue;
    for (const auto& n : *names)
      if (n.size() > 4 && (n.compare(n.size() - 4, 4, ".efi") == 0 || n.compare(n.size() - 4, 4, ".EFI") == 0))
        files.push_back("/EFI/" + dir + "/" + n);
  }
  return files;
}

Status EfiEntry(const std::string& root, Target& t, const format::Manifest& m, os::Env& runner) {
  const BootPlan& plan = t.boot_plan();
  if (!plan.efi_entry) return Status::Ok();
  std::vector<std::string> files = plan.esp_as_is ? m.boot.esp_files : EspFiles(runner, root + plan.target.efi_dir);
  std::string loader = ChooseEfiLoader(files);
  if (loader.empty())
    return Status::Io(
        "the clone's EFI system partition holds no loader for a boot entry (no EFI/<vendor>/shimx64.efi, "
        "grubx64.efi nor EFI/BOOT/BOOTX64.EFI)");
  return WriteEfiEntry(runner, plan.efibootmgr, t.disk(), plan.esp_number, loader, plan.efi_entry_last);
}

Status Bootloader(const std::string& root, Target& t, const format::Manifest& m, os::Env& runner) {
  const BootPlan& plan = t.boot_plan();
  LogInfo("boot: {}", plan.Summary());
  if (plan.kind == BootloaderKind::kNone) return Status::Ok();
  if (plan.esp_as_is)
    LogInfo(
        "bootloader: the EFI system partition (partition {}) was copied block for block and holds "
        "/EFI/BOOT/BOOTX64.EFI: used as the golden had it (this kernel cannot mount vfat)",
        plan.esp_number);
  const std::string cfg = GrubConfigToCheck(plan.kind, root);
  auto rfs = RootFs::Open(root);
  if (!rfs.ok()) return rfs.status();
  std::string golden_cfg;
  if (!cfg.empty()) {
    auto g = rfs->Read(cfg);
    if (g.ok() && g->has_value()) golden_cfg = **g;
  }
  auto nodes = t.DiskNodes();
  if (!nodes.ok()) return nodes.status().Wrap("describing " + t.disk() + " for the chroot");
  os::Env& mounter = os::DefaultEnv();
  auto mounts = ChrootMounts::Setup(root, mounter, *nodes);
  if (!mounts.ok()) return mounts.status();
  Status s = InstallBootloader(runner, plan.kind, plan.target, root);
  Status r = (*mounts)->Release();
  if (!s.ok()) return s;
  KA_RETURN_IF_ERROR(r);
  if (cfg.empty()) {
    LogInfo("bootloader: {} uses the image's own configuration as it is (not checked)", m.bootloader);
    return Status::Ok();
  }
  auto c = rfs->Read(cfg);
  if (!c.ok()) return c.status();
  Status check = CheckBootConfig(golden_cfg, c->value_or(""), cfg, t.DeviceNames());
  if (!check.ok()) return check.Wrap("checking the boot loader's configuration");
  auto lines = KernelLines(c->value_or(""));
  LogInfo("bootloader: {} checked: {} kernel line(s), root={} as on the golden, no device of this machine named", cfg,
          lines.size(), lines.empty() ? "?" : lines.front().root);
  return Status::Ok();
}

Status BootloaderAndEntry(const std::string& root, Target& t, const format::Manifest& m, os::Env& runner) {
  KA_RETURN_IF_ERROR(Bootloader(root, t, m, runner));
  // The clone boots without the entry (firmware tries EFI/BOOT/BOOTX64.EFI on its own):
  // a firmware that refuses to store it is worth a warning, not a wiped disk.
  if (Status e = EfiEntry(root, t, m, runner); !e.ok())
    LogWarn(
        "efi: no UEFI boot entry for the clone ({}); it boots through EFI/BOOT/BOOTX64.EFI when the firmware "
        "tries the disk",
        e.ToString());
  return Status::Ok();
}

}  // namespace

Status FinishClone(Target& t, const format::Manifest& m, const Identity& id, const FinishOptions& o, os::Env& runner) {
  auto root = t.ComposeRoot();
  if (!root.ok()) return root.status().Wrap("mounting the clone's filesystems together");
  if (root->empty()) {
    LogWarn("the golden has no root filesystem: nothing to individualise, no bootloader");
    if (!m.mbr_hex.empty()) KA_RETURN_IF_ERROR(WriteBootCode(t.disk(), m.mbr_hex));
    return t.UnmountAll();
  }
  auto step = [&](const char* state, const std::string& detail) {
    if (o.on_state) o.on_state(state, detail);
  };
  KA_RETURN_IF_ERROR(EnsureExcludedDirs(*root, m));
  auto t0 = std::chrono::steady_clock::now();
  auto phase = [&](const char* name) {
    auto now = std::chrono::steady_clock::now();
    if (o.on_phase) o.on_phase(name, std::chrono::duration<double>(now - t0).count());
    t0 = now;
  };
  step("individualising", o.hostname_template);
  IndividualiseOptions io;
  io.hostname_template = o.hostname_template;
  io.keep = o.keep;
  auto rep = Individualise(*root, id, io);
  if (!rep.ok()) return rep.status().Wrap("individualising");
  LogInfo("individualised as {} (golden: {}): {} file(s) changed, {} removed; ssh host keys: {}", rep->hostname,
          rep->golden_hostname.empty() ? "-" : rep->golden_hostname, rep->changed.size(), rep->removed.size(),
          SshKeygenWayName(rep->ssh_keygen));
  for (const auto& n : rep->notes) LogInfo("individualise: {}", n);
  phase("individualise");
  step("drivers", "");
  KA_RETURN_IF_ERROR(Drivers(t, *root, m, runner).Wrap("drivers and initramfs"));
  phase("initramfs");
  step("bootloader", m.bootloader);
  if (!m.mbr_hex.empty()) KA_RETURN_IF_ERROR(WriteBootCode(t.disk(), m.mbr_hex));
  KA_RETURN_IF_ERROR(BootloaderAndEntry(*root, t, m, runner).Wrap("installing the bootloader (" + m.bootloader + ")"));
  phase("bootloader");
  return t.UnmountAll().Wrap("unmounting the clone");
}

}  // namespace ka::node
