// The clone manifest: what the golden tells every node in the PREPARE phase,
// before any data flows, so that a node can check that the clone fits its disk
// and make the partitions and filesystems. Sent as the "clone" object of the
// PREPARE message; see docs/clone.md.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/status.h"

namespace ka::format {

// How a partition's content travels.
enum class Method {
  kTree,  // file by file: a tree section (pax + zstd) extracted into a fresh filesystem
  kRaw,   // block for block: a raw section (zstd) written onto the partition
  kSwap,  // nothing travels: the node runs mkswap with the golden's UUID and label
  kNone,  // nothing travels: no filesystem (or an extended container)
};
const char* MethodName(Method m);
Result<Method> ParseMethod(const std::string& s);

// The longest mount point or excluded directory a manifest may hold (PATH_MAX - 1).
inline constexpr size_t kMaxManifestPath = 4095;

struct ManifestPartition {
  int number = 0;
  std::string fs, uuid, label;
  std::string mount;   // the golden's mount point from its fstab ("/", "/boot"); empty: not in fstab.
                       // FromJson checks it: absolute, no ".." component, no NUL, bounded.
  Method method = Method::kNone;
  uint64_t size = 0;   // bytes of the golden's partition
  uint64_t used = 0;   // bytes used in the golden filesystem (what a tree section carries, uncompressed)
  std::vector<std::string> exclude;  // directories (relative to this filesystem) re-created empty;
                                     // FromJson checks them like mount, but relative
};

// What the nodes need to know to boot the clone (the bootloader step's preconditions are
// checked in PREPARE from it, before anything is written). Optional in the JSON: absent
// fields take these defaults (an older golden: nothing known, nothing checked early).
struct ManifestBoot {
  // Which firmware the nodes boot with: "auto" (each node's own: /sys/firmware/efi), "bios",
  // "uefi", or "any" (no check that the golden's layout can boot that way).
  std::string firmware = "auto";
  // The UEFI boot entry a node running in UEFI mode writes (efibootmgr): "first" in
  // BootOrder, "last" (after the existing ones: the network stays first), or "none".
  std::string efi_entry = "first";
  // GRUB platforms the golden image has modules for ("i386-pc", "x86_64-efi").
  std::vector<std::string> grub_platforms;
  bool signed_efi = false;  // the image has shim and Debian's signed GRUB (Secure Boot)
  bool known = false;       // the golden filled grub_platforms/signed_efi/esp_files (not in the JSON)
  // The EFI executables on the golden's EFI system partition ("/EFI/BOOT/BOOTX64.EFI",
  // "/EFI/debian/shimx64.efi"), as found (FAT names are case-insensitive).
  std::vector<std::string> esp_files;

  bool HasGrubPlatform(const std::string& p) const;
  bool EspHas(const std::string& path) const;  // case-insensitive
};
inline constexpr size_t kMaxEspFiles = 64;

struct Manifest {
  int version = 1;
  std::string desc;          // the layout the nodes write (KA desc text, with fs/uuid/label/mount)
  uint64_t golden_disk = 0;  // bytes of the golden's disk
  std::vector<ManifestPartition> partitions;
  std::string bootloader = "none";  // grub | lilo | none (resolved on the golden)
  std::string initramfs_options;    // extra options for the initramfs tool
  std::string mbr_hex;              // 446 bytes of boot code to write, hex; empty: none
  std::string hostname_template;    // default for the nodes ("" = keep the golden's)
  std::string golden_hostname;
  std::string source;               // what was cloned, for the logs
  ManifestBoot boot;

  nlohmann::json ToJson() const;
  nlohmann::json BootJson() const;
  static Result<Manifest> FromJson(const nlohmann::json& j);
  uint64_t used_bytes() const;
  const ManifestPartition* Find(int number) const;
  const ManifestPartition* Root() const;  // the partition mounted at "/", if any
};

}  // namespace ka::format
