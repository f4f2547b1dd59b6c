// What `ka netboot serve` needs to know of the build it serves, read back from the
// build's DIR/build.json by a bounded parser: which loader UEFI machines get
// ("uefi_boot": "ipxe", or "shim" for a `ka netboot build --secure-boot`).
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace ka::netboot {

enum class UefiLoader {
  kIpxe,  // ipxe.efi, then ka/boot.ipxe (no Secure Boot)
  kShim,  // shimx64.efi -> grubx64.efi (Debian's signed GRUB) -> grub/grub.cfg: Secure Boot
};

// "ipxe", "shim": the value of build.json's "uefi_boot".
const char* UefiLoaderName(UefiLoader l);

// build.json's "uefi_boot" ("ipxe" when absent: builds made before it existed).
// Invalid when the text is larger than 4 MiB, not a JSON object, or the field is
// not one of the names above.
Result<UefiLoader> ParseBuildUefiLoader(std::string_view build_json);

// The build directory's build.json beside `tftp_root` (DIR/tftp -> DIR/build.json);
// kIpxe when there is none (e.g. a --tftp-root of one's own).
Result<UefiLoader> ReadBuildUefiLoader(const std::string& tftp_root);

}  // namespace ka::netboot
