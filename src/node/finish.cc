#include "node/finish.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <sstream>

#include "node/bootloader.h"
#include "node/chroot.h"
#include "node/drivers.h"
#include "node/individualise.h"
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

Status EnsureExcludedDirs(const std::string& root, const golden::Manifest& m) {
  for (const auto& p : m.partitions) {
    if (p.method != golden::Method::kTree || p.mount.empty()) continue;
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

Status Drivers(const std::string& root, const std::string& disk, const golden::Manifest& m, Runner& runner) {
  auto tool = DetectInitramfsTool(root);
  if (!tool.ok()) return tool.status();
  if (tool->kind == InitramfsKind::kNone || tool->kernels.empty()) {
    LogInfo("drivers: the image has {}; its initramfs is left as it is",
            tool->kind == InitramfsKind::kNone ? "no initramfs tool" : "no kernel modules");
    return Status::Ok();
  }
  NodeHardware hw = CollectHardware("/sys", DiskName(disk));
  NodeDrivers all;
  for (const auto& k : tool->kernels) {
    auto alias = ReadModulesAlias(root, k);
    if (!alias.ok()) return alias.status();
    auto d = ResolveDrivers(alias.value(), hw);
    if (!d.ok()) return d.status().Wrap("kernel " + k);
    for (const auto& s : d->storage)
      if (std::find(all.storage.begin(), all.storage.end(), s) == all.storage.end()) all.storage.push_back(s);
    for (const auto& n : d->network)
      if (std::find(all.network.begin(), all.network.end(), n) == all.network.end()) all.network.push_back(n);
  }
  LogInfo("drivers for this node: {} (initramfs tool: {})", fmt::join(all.All(), " "), InitramfsKindName(tool->kind));
  KA_RETURN_IF_ERROR(AddInitramfsModules(root, *tool, all));
  RealMounter mounter;
  auto mounts = ChrootMounts::Setup(root, mounter);
  if (!mounts.ok()) return mounts.status();
  Status s = RebuildInitramfs(runner, root, *tool, SplitWords(m.initramfs_options));
  Status r = (*mounts)->Release();
  if (!s.ok()) return s;
  return r;
}

Status Bootloader(const std::string& root, const Target& t, const golden::Manifest& m, Runner& runner) {
  auto kind = ParseBootloader(m.bootloader);
  if (!kind.ok()) return kind.status();
  if (*kind == BootloaderKind::kNone) return Status::Ok();
  auto target = DecideBootTarget(t.layout(), t.disk());
  if (!target.ok()) return target.status();
  LogInfo("installing {} ({}{}{}) on {}", m.bootloader, target->bios ? "BIOS" : "", target->bios && target->efi ? " + " : "",
          target->efi ? "EFI" : "", t.disk());
  RealMounter mounter;
  auto mounts = ChrootMounts::Setup(root, mounter);
  if (!mounts.ok()) return mounts.status();
  Status s = InstallBootloader(runner, *kind, *target, root);
  Status r = (*mounts)->Release();
  if (!s.ok()) return s;
  return r;
}

}  // namespace

Status FinishClone(Target& t, const golden::Manifest& m, const Identity& id, const FinishOptions& o, Runner& runner) {
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
  step("drivers", "");
  KA_RETURN_IF_ERROR(Drivers(*root, t.disk(), m, runner).Wrap("drivers and initramfs"));
  step("bootloader", m.bootloader);
  if (!m.mbr_hex.empty()) KA_RETURN_IF_ERROR(WriteBootCode(t.disk(), m.mbr_hex));
  KA_RETURN_IF_ERROR(Bootloader(*root, t, m, runner).Wrap("installing the bootloader (" + m.bootloader + ")"));
  return t.UnmountAll().Wrap("unmounting the clone");
}

}  // namespace ka::node
