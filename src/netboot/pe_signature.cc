#include "netboot/pe_signature.h"

#include <fmt/format.h>

namespace ka::netboot {

namespace {

constexpr uint32_t kCertificateDirectory = 4;  // IMAGE_DIRECTORY_ENTRY_SECURITY
constexpr uint16_t kWinCertRevision2 = 0x0200;
constexpr uint16_t kWinCertPkcsSignedData = 0x0002;
constexpr uint32_t kMaxCertificates = 64;

// Little-endian reads that fail (false) rather than read past the end.
bool Read16(std::string_view d, uint64_t at, uint16_t& v) {
  if (at > d.size() || d.size() - at < 2) return false;
  v = static_cast<uint16_t>(static_cast<uint8_t>(d[at]) | static_cast<uint8_t>(d[at + 1]) << 8);
  return true;
}
bool Read32(std::string_view d, uint64_t at, uint32_t& v) {
  uint16_t lo = 0, hi = 0;
  if (!Read16(d, at, lo) || !Read16(d, at + 2, hi)) return false;
  v = static_cast<uint32_t>(lo) | static_cast<uint32_t>(hi) << 16;
  return true;
}

Status Bad(const std::string& why) { return Status::Invalid("not a valid PE image: " + why); }

}  // namespace

Result<PeSignatureInfo> InspectPeSignature(std::string_view d) {
  PeSignatureInfo info;
  if (d.size() < 0x40 || d[0] != 'M' || d[1] != 'Z') return Bad("no MZ header");
  uint32_t pe = 0;
  if (!Read32(d, 0x3c, pe)) return Bad("truncated DOS header");
  if (uint64_t{pe} + 24 > d.size() || d.substr(pe, 4) != std::string_view("PE\0\0", 4)) {
    return Bad("no PE signature at the offset the DOS header gives");
  }
  uint16_t opt_size = 0, magic = 0;
  if (!Read16(d, uint64_t{pe} + 4, info.machine) || !Read16(d, uint64_t{pe} + 20, opt_size)) {
    return Bad("truncated COFF header");
  }
  const uint64_t opt = uint64_t{pe} + 24;
  if (opt + opt_size > d.size()) return Bad("the optional header runs past the end of the file");
  if (!Read16(d, opt, magic)) return Bad("no optional header");
  if (magic != 0x10b && magic != 0x20b) return Bad(fmt::format("unknown optional header magic {:#x}", magic));
  info.pe32_plus = magic == 0x20b;
  const uint64_t count_at = info.pe32_plus ? 108 : 92;
  const uint64_t dirs_at = info.pe32_plus ? 112 : 96;
  uint32_t dirs = 0;
  if (opt_size < dirs_at || !Read32(d, opt + count_at, dirs)) return Bad("the optional header has no data directories");
  if (dirs <= kCertificateDirectory || dirs_at + uint64_t{kCertificateDirectory + 1} * 8 > opt_size) return info;
  const uint64_t entry = opt + dirs_at + uint64_t{kCertificateDirectory} * 8;
  uint32_t offset = 0, size = 0;
  if (!Read32(d, entry, offset) || !Read32(d, entry + 4, size)) return Bad("truncated data directory");
  if (offset == 0 && size == 0) return info;
  if (offset == 0 || size < 8 || uint64_t{offset} + size > d.size()) {
    return Bad(
        fmt::format("the certificate table ({} bytes at {}) lies outside the file ({} bytes)", size, offset, d.size()));
  }
  info.cert_offset = offset;
  info.cert_size = size;
  // WIN_CERTIFICATE entries, each 8-byte aligned: dwLength, wRevision, wCertificateType, bCertificate.
  uint64_t at = offset;
  const uint64_t end = uint64_t{offset} + size;
  while (end - at >= 8) {
    uint32_t length = 0;
    uint16_t revision = 0, type = 0;
    if (!Read32(d, at, length) || !Read16(d, at + 4, revision) || !Read16(d, at + 6, type)) break;
    if (length < 8 || length > end - at) {
      return Bad(fmt::format("certificate {} has length {}, outside its table", info.certificates, length));
    }
    if (revision != kWinCertRevision2 || type != kWinCertPkcsSignedData) {
      return Bad(fmt::format("certificate {} is not an Authenticode signature (revision {:#x}, type {:#x})",
                             info.certificates, revision, type));
    }
    if (++info.certificates > kMaxCertificates) return Bad("more than 64 certificates");
    at += (uint64_t{length} + 7) & ~uint64_t{7};
  }
  return info;
}

Status RequireSignedPe(os::Env& env, const std::string& path, const std::string& what) {
  auto data = env.ReadFile(path);
  if (!data.ok()) return data.status().Wrap(what);
  auto info = InspectPeSignature(*data);
  if (!info.ok()) return info.status().Wrap(what + " " + path);
  if (!info->Signed()) {
    return Status::Invalid(fmt::format(
        "{} {} carries no Authenticode signature, so Secure Boot machines would refuse it: use Debian's signed "
        "kernel (linux-image-amd64) or build without --secure-boot",
        what, path));
  }
  return Status::Ok();
}

}  // namespace ka::netboot
