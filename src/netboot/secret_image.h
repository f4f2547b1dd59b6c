// ka/secret.img: a cpio (newc) archive holding etc/ka/secret, loaded by the
// kernel as a second initramfs so stage1 finds the session secret. TFTP is
// unauthenticated: anyone on the boot network can fetch it.
#pragma once

#include <string>

#include "util/status.h"

namespace ka::netboot {

// The archive's bytes: directories etc and etc/ka (0755), etc/ka/secret (0600)
// with `secret` as content.
Result<std::string> MakeSecretImage(const std::string& secret);

}  // namespace ka::netboot
