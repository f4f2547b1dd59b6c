#include "node/bootloader.h"

#include <unistd.h>

#include "node/root_fs.h"
#include "util/log.h"

namespace ka::node {
namespace {

std::string FirstFile(const RootFs& fs, std::initializer_list<const char*> paths) {
  for (const char* p : paths)
    if (fs.IsFile(p)) return p;
  return "";
}

struct GrubTools {
  std::string install, mkconfig, cfg;
};

GrubTools FindGrub(const RootFs& fs) {
  GrubTools g;
  g.install = FirstFile(fs, {"/usr/sbin/grub-install", "/sbin/grub-install"});
  if (!g.install.empty()) {
    g.mkconfig = FirstFile(fs, {"/usr/sbin/grub-mkconfig", "/sbin/grub-mkconfig"});
    g.cfg = "/boot/grub/grub.cfg";
    return g;
  }
  g.install = FirstFile(fs, {"/usr/sbin/grub2-install", "/sbin/grub2-install"});
  g.mkconfig = FirstFile(fs, {"/usr/sbin/grub2-mkconfig", "/sbin/grub2-mkconfig"});
  g.cfg = "/boot/grub2/grub.cfg";
  return g;
}

std::string FindLilo(const RootFs& fs) { return FirstFile(fs, {"/sbin/lilo", "/usr/sbin/lilo"}); }

}  // namespace

const char* BootloaderName(BootloaderKind kind) {
  switch (kind) {
    case BootloaderKind::kAuto: return "auto";
    case BootloaderKind::kGrub: return "grub";
    case BootloaderKind::kLilo: return "lilo";
    case BootloaderKind::kNone: return "none";
    case BootloaderKind::kGrubNode: return "grub-node";
  }
  return "?";
}

Result<BootloaderKind> ParseBootloader(const std::string& text) {
  for (auto k : {BootloaderKind::kAuto, BootloaderKind::kGrub, BootloaderKind::kLilo, BootloaderKind::kNone,
                 BootloaderKind::kGrubNode})
    if (text == BootloaderName(k)) return k;
  return Status::Invalid("--bootloader " + text + ": use auto, grub, lilo or none");
}

Result<BootloaderKind> DetectBootloader(const std::string& root) {
  auto fs = RootFs::Open(root);
  if (!fs.ok()) return fs.status();
  if (!FindGrub(*fs).install.empty()) return BootloaderKind::kGrub;
  if (!FindLilo(*fs).empty()) return BootloaderKind::kLilo;
  return BootloaderKind::kNone;
}

Status CheckBootloader(BootloaderKind requested, const std::string& root) {
  auto fs = RootFs::Open(root);
  if (!fs.ok()) return fs.status();
  if (requested == BootloaderKind::kGrub && FindGrub(*fs).install.empty()) {
    return Status::Invalid("--bootloader grub: the golden image has no grub-install or grub2-install (in /usr/sbin "
                           "or /sbin); use " + std::string(FindLilo(*fs).empty() ? "" : "lilo or ") + "none");
  }
  if (requested == BootloaderKind::kLilo && FindLilo(*fs).empty()) {
    return Status::Invalid("--bootloader lilo: the golden image has no /sbin/lilo; use " +
                           std::string(FindGrub(*fs).install.empty() ? "" : "grub or ") + "none");
  }
  return Status::Ok();
}

Result<BootTarget> DecideBootTarget(const layout::Layout& layout, const std::string& disk) {
  BootTarget t;
  t.disk = disk;
  if (layout.label == layout::TableLabel::kMbr) t.bios = true;
  for (const auto& p : layout.partitions) {
    if (layout.label == layout::TableLabel::kGpt && p.type.name == "bios") t.bios = true;
    if (layout::IsEfi(p.type) && !p.mount.empty() && !t.efi) {
      t.efi = true;
      t.efi_dir = p.mount;
    }
  }
  if (!t.bios && !t.efi) {
    return Status::Invalid("nothing to boot from on " + disk +
                           ": a GPT disk needs a bios_grub partition (type bios, 1 MiB) for BIOS boot or an EFI "
                           "system partition with a mount point (efi ... fs=vfat mount=/boot/efi) for EFI boot; "
                           "or use --bootloader none");
  }
  return t;
}

Result<std::vector<std::vector<std::string>>> BootloaderCommands(BootloaderKind kind, const BootTarget& target,
                                                                 const std::string& root, const std::string& chroot) {
  auto fs = RootFs::Open(root);
  if (!fs.ok()) return fs.status();
  if (kind == BootloaderKind::kAuto) {
    auto detected = DetectBootloader(root);
    if (!detected.ok()) return detected.status();
    kind = *detected;
    if (kind == BootloaderKind::kNone) LogWarn("no boot loader in the golden image {}: none installed", root);
  }
  KA_RETURN_IF_ERROR(CheckBootloader(kind, root));
  std::vector<std::vector<std::string>> cmds;
  if (kind == BootloaderKind::kNone) return cmds;
  const std::vector<std::string> in_root{chroot, fs->root()};
  auto cmd = [&](std::initializer_list<std::string> words) {
    std::vector<std::string> c = in_root;
    c.insert(c.end(), words);
    cmds.push_back(std::move(c));
  };

  if (kind == BootloaderKind::kLilo) {
    if (target.efi && !target.bios) {
      return Status::Invalid("lilo cannot boot " + target.disk + " by EFI: use grub, or give the disk an MBR label");
    }
    cmd({FindLilo(*fs)});
    return cmds;
  }

  GrubTools g = FindGrub(*fs);
  if (g.mkconfig.empty()) {  // GRUB legacy (0.97): its own menu.lst, BIOS only
    if (!target.bios) {
      return Status::Invalid("the golden image has GRUB legacy (" + g.install +
                             " without grub-mkconfig), which cannot boot by EFI: give the disk an MBR label or a "
                             "bios_grub partition, or install GRUB 2 in the golden system");
    }
    cmd({g.install, "--recheck", target.disk});
    return cmds;
  }
  if (target.bios) {
    if (!fs->IsDir("/usr/lib/grub/i386-pc")) {
      return Status::Invalid("the golden image has no GRUB BIOS modules (/usr/lib/grub/i386-pc) to boot " +
                             target.disk + " by BIOS: install grub-pc-bin (Debian) or grub2-pc-modules (RHEL) in it");
    }
    cmd({g.install, "--target=i386-pc", "--recheck", target.disk});
  }
  if (target.efi) {
    if (!fs->IsDir("/usr/lib/grub/x86_64-efi")) {
      return Status::Invalid("the golden image has no GRUB EFI modules (/usr/lib/grub/x86_64-efi) to boot " +
                             target.disk + " by EFI: install grub-efi-amd64-bin (Debian) or grub2-efi-x64-modules "
                             "(RHEL) in it");
    }
    std::vector<std::string> efi = in_root;
    for (const std::string& w : {g.install, std::string("--target=x86_64-efi"), "--efi-directory=" + target.efi_dir,
                                 std::string("--no-nvram")})
      efi.push_back(w);
    if (target.efi_signed) efi.push_back("--uefi-secure-boot");
    cmds.push_back(efi);
    efi.push_back("--removable");
    cmds.push_back(efi);
  }
  cmd({g.mkconfig, "-o", g.cfg});
  return cmds;
}

Result<std::vector<std::vector<std::string>>> NodeGrubCommands(const BootTarget& target, const std::string& root,
                                                               const std::string& grub_install) {
  if (grub_install.empty())
    return Status::Invalid("the golden has no grub-install and this node has none either: boot the node with "
                           "ka netboot's stage1/stage2, or install grub2-common and grub-pc-bin on it");
  auto fs = RootFs::Open(root);
  if (!fs.ok()) return fs.status();
  if (!fs->IsFile("/boot/grub/grub.cfg"))
    return Status::Invalid("the golden has no /boot/grub/grub.cfg for the node's GRUB to use");
  std::vector<std::vector<std::string>> cmds;
  const std::string boot_dir = "--boot-directory=" + fs->root() + "/boot";
  if (target.bios) cmds.push_back({grub_install, "--target=i386-pc", boot_dir, "--recheck", target.disk});
  if (target.efi)
    cmds.push_back({grub_install, "--target=x86_64-efi", "--efi-directory=" + fs->root() + target.efi_dir, boot_dir,
                    "--removable", "--no-nvram"});
  return cmds;
}

Status CheckNodeBootloader(os::Env& runner, BootloaderKind kind, const BootTarget& target, const std::string& grub_lib) {
  if (kind != BootloaderKind::kGrubNode) return Status::Ok();
  auto gi = runner.Find("grub-install", "grub2-common");
  if (!gi.ok())
    return gi.status().Wrap("the golden's GRUB is installed by the node (the golden has no grub-install)");
  auto has = [&](const char* sub) { return ::access((grub_lib + "/" + sub + "/modinfo.sh").c_str(), R_OK) == 0; };
  if (target.bios && !has("i386-pc"))
    return Status::Invalid("this node has no GRUB BIOS modules (" + grub_lib +
                           "/i386-pc) to install the golden's GRUB: install grub-pc-bin (stage2 has it)");
  if (target.efi && !has("x86_64-efi"))
    return Status::Invalid("this node has no GRUB EFI modules (" + grub_lib +
                           "/x86_64-efi) to install the golden's GRUB: install grub-efi-amd64-bin (stage2 has it)");
  return Status::Ok();
}

std::string GrubConfigToCheck(BootloaderKind kind, const std::string& root) {
  if (kind == BootloaderKind::kGrubNode) return "/boot/grub/grub.cfg";
  auto fs = RootFs::Open(root);
  if (!fs.ok()) return "";
  if (kind == BootloaderKind::kAuto) {
    auto d = DetectBootloader(root);
    if (!d.ok()) return "";
    kind = *d;
  }
  if (kind != BootloaderKind::kGrub) return "";
  GrubTools g = FindGrub(*fs);
  return g.install.empty() || g.mkconfig.empty() ? "" : g.cfg;
}

Status InstallBootloader(os::Env& runner, BootloaderKind kind, const BootTarget& target, const std::string& root) {
  const std::string what = std::string("installing the boot loader (") + BootloaderName(kind) + ") for " + target.disk;
  if (kind == BootloaderKind::kGrubNode) {
    auto gi = runner.Find("grub-install", "grub2-common");
    auto cmds = NodeGrubCommands(target, root, gi.ok() ? gi.value() : "");
    if (!cmds.ok()) return cmds.status().Wrap(what);
    for (const auto& c : *cmds) {
      auto r = runner.Run(c);
      if (!r.ok()) return r.status().Wrap(what);
    }
    return Status::Ok();
  }
  auto chroot = runner.Find("chroot", "coreutils");
  if (!chroot.ok()) return chroot.status().Wrap(what);
  auto cmds = BootloaderCommands(kind, target, root, *chroot);
  if (!cmds.ok()) return cmds.status().Wrap(what);
  for (const auto& c : *cmds) {
    auto r = runner.Run(c);
    if (!r.ok()) return r.status().Wrap(what);
  }
  return Status::Ok();
}

}  // namespace ka::node
