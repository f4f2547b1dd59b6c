// Assembles and archives stage2 (see stage2_builder.h).
#include "netboot/stage2_builder.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "netboot/staging_tree.h"
#include "util/fd.h"

namespace ka::netboot {

// efibootmgr (UEFI boot entries) and mdir/mtype (mtools: reading an EFI system partition
// without mounting it) serve UEFI nodes; optional, as a build host may lack them.
const std::vector<Stage2Tool>& Stage2Tools() {
  static const std::vector<Stage2Tool> kTools = {
      {"sfdisk", "fdisk", true},
      {"partx", "util-linux", true},
      {"blkid", "util-linux", true},
      {"wipefs", "util-linux", true},
      {"losetup", "mount", true},
      {"mount", "mount", true},
      {"umount", "mount", true},
      {"findmnt", "util-linux", true},
      {"chroot", "coreutils", true},
      {"mkswap", "util-linux", true},
      {"swaplabel", "util-linux", true},
      {"mke2fs", "e2fsprogs", true},
      {"mkfs.ext2", "e2fsprogs", true},
      {"mkfs.ext3", "e2fsprogs", true},
      {"mkfs.ext4", "e2fsprogs", true},
      {"e2fsck", "e2fsprogs", true},
      {"tune2fs", "e2fsprogs", true},
      {"resize2fs", "e2fsprogs", true},
      {"mkfs.xfs", "xfsprogs", true},
      {"xfs_admin", "xfsprogs", true},
      {"xfs_db", "xfsprogs", true},
      {"mkfs.btrfs", "btrfs-progs", true},
      {"btrfstune", "btrfs-progs", true},
      {"mkfs.vfat", "dosfstools", true},
      {"mkfs.fat", "dosfstools", true},
      {"fatlabel", "dosfstools", true},
      {"grub-install", "grub2-common", true},
      {"grub-mkimage", "grub-common", true},
      {"grub-probe", "grub-common", true},
      {"grub-editenv", "grub-common", true},
      {"dd", "coreutils", true},
      {"sync", "coreutils", true},
      {"efibootmgr", "efibootmgr", false},
      {"mdir", "mtools", false},
      {"mtype", "mtools", false},
  };
  return kTools;
}

// grub-bios-setup comes with /usr/lib/grub/i386-pc, where grub-install looks for it.
const std::vector<std::string>& Stage2Directories() {
  static const std::vector<std::string> kDirs = {"/usr/lib/grub/i386-pc", "/usr/lib/grub/x86_64-efi", "/usr/share/grub"};
  return kDirs;
}

Status CheckStage2Tools(os::Env& runner) {
  for (const auto& t : Stage2Tools()) {
    if (!t.required) continue;
    auto p = runner.Find(t.name, t.package);
    if (!p.ok()) return p.status().Wrap("stage2 needs " + std::string(t.name));
  }
  for (const auto& d : Stage2Directories())
    if (!std::filesystem::is_directory(d))
      return Status::Invalid("stage2 needs " + d + "; install grub-pc-bin, grub-efi-amd64-bin and grub2-common");
  if (!std::filesystem::is_regular_file("/etc/mke2fs.conf"))
    return Status::Invalid("stage2 needs /etc/mke2fs.conf; install e2fsprogs");
  return Status::Ok();
}

Result<Stage2Result> BuildStage2(os::Env& runner, const Stage2Options& options, const std::string& output) {
  Stage2Result result;
  StagingTree tree(options.staging_dir);
  KA_RETURN_IF_ERROR(tree.MakeDirectory("/", 0755));
  for (const auto& t : Stage2Tools()) {
    auto p = runner.Find(t.name, t.package);
    if (!p.ok()) {
      if (t.required) return p.status();
      result.skipped.push_back(t.name);
      continue;
    }
    KA_RETURN_IF_ERROR(tree.InstallHostPath(*p));
  }
  for (const auto& d : Stage2Directories()) KA_RETURN_IF_ERROR(tree.InstallHostDirectory(d));
  KA_RETURN_IF_ERROR(tree.InstallFileAs("/etc/mke2fs.conf", "/etc/mke2fs.conf", 0644));
  KA_RETURN_IF_ERROR(tree.InstallLibraries(runner));
  KA_RETURN_IF_ERROR(tree.SetAllTimes(options.mtime));
  result.sources = tree.sources();

  UniqueFd fd(::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return Status::Io(ErrnoMessage("cannot create " + output, errno));
  golden::TreeWriteOptions wo;
  wo.zstd_level = options.zstd_level;
  wo.zstd_threads = options.zstd_threads;
  wo.reproducible = true;
  auto stats = golden::WriteTree(tree.root(), wo, [&](const void* data, size_t n) -> Status {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      ssize_t w = ::write(fd.get(), p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Status::Io(ErrnoMessage("writing " + output, errno));
      p += w;
      n -= static_cast<size_t>(w);
    }
    return Status::Ok();
  });
  if (!stats.ok()) return stats.status();
  result.stats = *stats;
  return result;
}

}  // namespace ka::netboot
