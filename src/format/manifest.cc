#include "format/manifest.h"

#include <cctype>
#include <cstdint>
#include <utility>

#include "util/strings.h"

namespace ka::format {

namespace {

// An integer member that fits T. A float (whose conversion could overflow: undefined
// behaviour), a string or an out-of-range value is a Protocol error, not a wrapped number.
template <typename T>
Result<T> Integer(const nlohmann::json& object, const char* key) {
  const nlohmann::json& v = object.at(key);
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (std::in_range<T>(u)) return static_cast<T>(u);
  } else if (v.is_number_integer()) {
    auto i = v.get<int64_t>();
    if (std::in_range<T>(i)) return static_cast<T>(i);
  } else {
    return Status::Protocol(std::string("clone manifest: '") + key + "' is not a whole number");
  }
  return Status::Protocol(std::string("clone manifest: '") + key + "' is out of range");
}

// Checks a path from the manifest: no NUL, at most kMaxManifestPath bytes, no ".." component,
// and absolute (mount points) or relative (excluded directories).
Status CheckPath(const std::string& what, const std::string& path, bool absolute) {
  std::string shown = path.size() > 64 ? path.substr(0, 64) + "..." : path;
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20) c = '?';
  auto bad = [&](const char* why) {
    return Status::Protocol("clone manifest: bad " + what + " '" + shown + "': " + why);
  };
  if (path.empty()) return bad("empty");
  if (path.size() > kMaxManifestPath) return bad("too long");
  if (path.find('\0') != std::string::npos) return bad("contains a NUL byte");
  if (absolute && path[0] != '/') return bad("not an absolute path");
  if (!absolute && path[0] == '/') return bad("not a relative path");
  for (size_t pos = 0; pos <= path.size();) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    if (slash - pos == 2 && path.compare(pos, 2, "..") == 0) return bad("goes up with '..'");
    pos = slash + 1;
  }
  return Status::Ok();
}

bool IsHex(const std::string& s) {
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

bool IsEfiPath(const std::string& s) {
  if (s.size() < 6 || s.size() > 255 || s.compare(0, 5, "/EFI/") != 0) return false;
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == '\\' || c == 0x7f) return false;
  return s.find("/../") == std::string::npos && s.find("//") == std::string::npos;
}

Result<ManifestBoot> BootFromJson(const nlohmann::json& b) {
  ManifestBoot out;
  if (!b.is_object()) return Status::Protocol("clone manifest: 'boot' is not an object");
  out.firmware = b.value("firmware", "auto");
  if (out.firmware != "auto" && out.firmware != "bios" && out.firmware != "uefi" && out.firmware != "any")
    return Status::Protocol("clone manifest: unknown boot firmware (auto, bios, uefi or any)");
  out.efi_entry = b.value("efi_entry", "first");
  if (out.efi_entry != "first" && out.efi_entry != "last" && out.efi_entry != "none")
    return Status::Protocol("clone manifest: unknown efi_entry (first, last or none)");
  out.known = b.contains("grub_platforms") || b.contains("signed_efi") || b.contains("esp_files");
  if (b.contains("grub_platforms")) {
    for (const auto& p : b.at("grub_platforms")) {
      std::string s = p.get<std::string>();
      if (s != "i386-pc" && s != "x86_64-efi") return Status::Protocol("clone manifest: unknown GRUB platform");
      if (!out.HasGrubPlatform(s)) out.grub_platforms.push_back(s);
    }
  }
  out.signed_efi = b.value("signed_efi", false);
  if (b.contains("esp_files")) {
    const auto& files = b.at("esp_files");
    if (!files.is_array() || files.size() > kMaxEspFiles)
      return Status::Protocol("clone manifest: 'esp_files' is not a list of at most " + std::to_string(kMaxEspFiles));
    for (const auto& f : files) {
      std::string s = f.get<std::string>();
      if (!IsEfiPath(s)) return Status::Protocol("clone manifest: bad EFI file path in 'esp_files'");
      out.esp_files.push_back(s);
    }
  }
  return out;
}

}  // namespace

bool ManifestBoot::HasGrubPlatform(const std::string& p) const {
  for (const auto& g : grub_platforms)
    if (g == p) return true;
  return false;
}

bool ManifestBoot::EspHas(const std::string& path) const {
  for (const auto& f : esp_files)
    if (Lower(f) == Lower(path)) return true;
  return false;
}

const char* MethodName(Method m) {
  switch (m) {
    case Method::kTree: return "tree";
    case Method::kRaw: return "raw";
    case Method::kSwap: return "swap";
    case Method::kNone: return "none";
  }
  return "none";
}

Result<Method> ParseMethod(const std::string& s) {
  for (Method m : {Method::kTree, Method::kRaw, Method::kSwap, Method::kNone})
    if (s == MethodName(m)) return m;
  return Status::Protocol("unknown partition method '" + s + "' in the clone manifest");
}

nlohmann::json Manifest::ToJson() const {
  nlohmann::json parts = nlohmann::json::array();
  for (const auto& p : partitions)
    parts.push_back({{"number", p.number}, {"fs", p.fs}, {"uuid", p.uuid}, {"label", p.label}, {"mount", p.mount},
                     {"method", MethodName(p.method)}, {"size", p.size}, {"used", p.used}, {"exclude", p.exclude}});
  return {{"version", version},
          {"desc", desc},
          {"golden_disk", golden_disk},
          {"partitions", parts},
          {"bootloader", bootloader},
          {"initramfs_options", initramfs_options},
          {"mbr", mbr_hex},
          {"hostname_template", hostname_template},
          {"golden_hostname", golden_hostname},
          {"source", source},
          {"boot", BootJson()}};
}

nlohmann::json Manifest::BootJson() const {
  nlohmann::json b = {{"firmware", boot.firmware}, {"efi_entry", boot.efi_entry}};
  if (boot.known) {
    b["grub_platforms"] = boot.grub_platforms;
    b["signed_efi"] = boot.signed_efi;
    b["esp_files"] = boot.esp_files;
  }
  return b;
}

Result<Manifest> Manifest::FromJson(const nlohmann::json& j) {
  try {
    Manifest m;
    auto version = Integer<int>(j, "version");
    if (!version.ok()) return version.status();
    m.version = *version;
    if (m.version != 1)
      return Status::Protocol("clone manifest version " + std::to_string(m.version) +
                              " is not supported by this ka (version 1); use the same ka on the golden and the nodes");
    m.desc = j.at("desc").get<std::string>();
    auto golden_disk = Integer<uint64_t>(j, "golden_disk");
    if (!golden_disk.ok()) return golden_disk.status();
    m.golden_disk = *golden_disk;
    for (const auto& p : j.at("partitions")) {
      ManifestPartition mp;
      auto number = Integer<int>(p, "number");
      if (!number.ok()) return number.status();
      mp.number = *number;
      mp.fs = p.at("fs").get<std::string>();
      mp.uuid = p.at("uuid").get<std::string>();
      mp.label = p.at("label").get<std::string>();
      mp.mount = p.at("mount").get<std::string>();
      if (!mp.mount.empty()) KA_RETURN_IF_ERROR(CheckPath("mount point", mp.mount, /*absolute=*/true));
      auto method = ParseMethod(p.at("method").get<std::string>());
      if (!method.ok()) return method.status();
      mp.method = method.value();
      auto size = Integer<uint64_t>(p, "size");
      if (!size.ok()) return size.status();
      mp.size = *size;
      auto used = Integer<uint64_t>(p, "used");
      if (!used.ok()) return used.status();
      mp.used = *used;
      mp.exclude = p.at("exclude").get<std::vector<std::string>>();
      for (const auto& e : mp.exclude) KA_RETURN_IF_ERROR(CheckPath("excluded directory", e, /*absolute=*/false));
      m.partitions.push_back(mp);
    }
    m.bootloader = j.at("bootloader").get<std::string>();
    if (m.bootloader != "grub" && m.bootloader != "lilo" && m.bootloader != "none" && m.bootloader != "grub-node")
      return Status::Protocol("clone manifest: unknown bootloader '" + m.bootloader + "'");
    m.initramfs_options = j.value("initramfs_options", "");
    m.mbr_hex = j.value("mbr", "");
    if (!m.mbr_hex.empty() && m.mbr_hex.size() != 446 * 2)
      return Status::Protocol("clone manifest: the boot code must be 446 bytes");
    if (!IsHex(m.mbr_hex)) return Status::Protocol("clone manifest: the boot code is not hex digits");
    m.hostname_template = j.value("hostname_template", "");
    m.golden_hostname = j.value("golden_hostname", "");
    m.source = j.value("source", "");
    if (j.contains("boot")) {
      auto boot = BootFromJson(j.at("boot"));
      if (!boot.ok()) return boot.status();
      m.boot = boot.value();
    }
    return m;
  } catch (const nlohmann::json::exception& e) {
    return Status::Protocol(std::string("malformed clone manifest: ") + e.what());
  }
}

uint64_t Manifest::used_bytes() const {
  uint64_t u = 0;
  for (const auto& p : partitions) u += p.used;
  return u;
}

const ManifestPartition* Manifest::Find(int number) const {
  for (const auto& p : partitions)
    if (p.number == number) return &p;
  return nullptr;
}

const ManifestPartition* Manifest::Root() const {
  for (const auto& p : partitions)
    if (p.mount == "/") return &p;
  return nullptr;
}

}  // namespace ka::format
