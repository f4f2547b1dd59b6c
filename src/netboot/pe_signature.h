// Does a PE/COFF image (an EFI binary, such as Debian's vmlinuz with its EFI stub)
// carry an Authenticode signature? `ka netboot build --secure-boot` refuses a stage1
// kernel without one, since shim's GRUB would refuse to boot it. This only looks:
// the PE headers, data directory 4 (the certificate table) present and inside the
// file, and its WIN_CERTIFICATE entries well formed. It verifies nothing
// cryptographically: shim and GRUB (shim_lock) do that on the node.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "os/env.h"
#include "util/status.h"

namespace ka::netboot {

struct PeSignatureInfo {
  bool pe32_plus = false;     // PE32+ (64-bit optional header)
  uint16_t machine = 0;       // COFF machine, 0x8664 for x86-64
  uint32_t cert_offset = 0;   // file offset of the certificate table (0: none)
  uint32_t cert_size = 0;     // its size in bytes
  uint32_t certificates = 0;  // WIN_CERTIFICATE entries in it
  bool Signed() const { return certificates > 0; }
};

// Parses the headers of `image` (the whole file). Invalid when it is not a PE image
// or a header or the certificate table points outside the file; an image without a
// certificate table is valid and not Signed().
Result<PeSignatureInfo> InspectPeSignature(std::string_view image);

// Reads `path` through `env` and requires a signed PE image; the error names `what`,
// the file and what to do.
Status RequireSignedPe(os::Env& env, const std::string& path, const std::string& what);

}  // namespace ka::netboot
