// Inspecting the golden: its disk (an image file, a block device, or the disk
// holding the running system "/"), partitions, filesystems, mount points (from
// its own /etc/fstab), used bytes, bootloader and boot code; everything a clone
// needs, decided and checked before any node is touched. The golden is only
// read: its partitions are attached as read-only loop devices and mounted
// read-only without journal replay, or bind-mounted read-only when already
// mounted. Everything is unmounted and detached when the Golden is destroyed.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "format/manifest.h"
#include "layout/layout.h"
#include "os/env.h"
#include "os/mount.h"
#include "util/status.h"

namespace ka::golden {

struct InspectOptions {
  std::string source;                     // image file, block device, or "/"
  std::vector<std::string> exclude;       // golden paths ("/tmp") re-created empty on the nodes
  std::vector<std::string> exclude_disk;  // disks not to clone ("sdb", "/dev/sdb")
  std::string layout_file;                // a desc to use instead of the golden's table
  bool copy_mbr = false;                  // send the golden's 446 bytes of boot code
  std::string mbr_file;                   // or these
  std::vector<int> raw_partitions;        // copied block for block
  std::string bootloader = "auto";        // auto | grub | lilo | none
  std::string initramfs_options;
  std::string hostname_template;
  std::string node_firmware = "auto";  // auto | bios | uefi | any (format::ManifestBoot)
  std::string efi_entry = "first";     // first | last | none
};

// A partition of the golden as it will be streamed.
struct GoldenPart {
  format::ManifestPartition info;
  std::string device;  // read-only device to read (raw) or that is mounted (tree)
  std::string dir;     // tree: where the filesystem is mounted read-only
};

class Golden {
 public:
  // Errors are Invalid (bad options, unsupported golden: the message says what
  // to do) or Io.
  // Every disk, loop device, mount and tool goes through `env`.
  static Result<std::unique_ptr<Golden>> Open(const InspectOptions& options, os::Env& env);
  ~Golden();
  Golden(const Golden&) = delete;
  Golden& operator=(const Golden&) = delete;

  const format::Manifest& manifest() const { return manifest_; }
  const std::vector<GoldenPart>& parts() const { return parts_; }
  const std::string& disk() const { return disk_; }
  // The golden is the running system (--source /): its files may change while read.
  bool live() const { return live_; }
  // Human-readable summary of what will be cloned (for the server's log).
  std::string Summary() const;
  // Unmounts and detaches now; errors are also logged.
  Status Close();
  // The system it was opened on.
  os::Env& env() const { return env_; }

 private:
  explicit Golden(os::Env& env) : env_(env), mounts_(env) {}
  Status Inspect(const InspectOptions& o);
  Status ExposeAndMount(bool block_device);
  Status MapFstab(const InspectOptions& o);
  Status MapExcludes(const InspectOptions& o);
  Status ResolveBootloader(const InspectOptions& o);
  Status ReadBootCode(const InspectOptions& o);
  // manifest_.boot: GRUB platforms and signed EFI loaders of the image, the ESP's files.
  Status DescribeBoot(const InspectOptions& o, bool grub2, const std::function<std::string(const std::string&)>& where);
  Status ApplyLayoutFile(const InspectOptions& o, layout::Layout& layout);

  os::Env& env_;
  std::string disk_;
  bool live_ = false;
  std::string run_dir_;
  std::vector<std::string> loops_;
  os::MountStack mounts_;
  std::vector<GoldenPart> parts_;
  format::Manifest manifest_;
  int esp_index_ = -1;    // parts_ index of the EFI system partition
  std::string root_dir_;  // where the golden's "/" is mounted (empty: no root found)
  std::vector<std::string> notes_;
};

// The disk holding the running system's "/" (e.g. /dev/sda for /dev/sda2).
Result<std::string> DiskOfRoot(os::Env& env);

}  // namespace ka::golden
