// The shared node secret (`--secret-file`): making a good one (`ka secret new
// FILE`: 32 random bytes), judging one (an estimate of its entropy), and loading
// one with the checks every user of a secret file should make: not empty, not
// weak (under 128 estimated bits), not world-readable.
//
// The secret authenticates the chain's handshake (docs/protocol.md §3): a weak
// one can be guessed offline from one recorded handshake.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace ka::crypto {

// Secrets estimated below this are refused by LoadSecret.
inline constexpr double kMinSecretBits = 128;

// 32 random bytes, raw, mode 0600, created with O_EXCL (never overwrites: the error
// names the file). The last byte is never \n or \r, so the file's bytes are the
// secret exactly (readers strip trailing newlines).
Status WriteNewSecret(const std::string& path);

// Estimated entropy in bits of a secret's bytes (trailing \n/\r removed first):
//  - any byte outside printable ASCII (0x20..0x7e): binary, 8 bits a byte, but at
//    most 32 bits per distinct byte (32 zero bytes: 32 bits);
//  - otherwise length x log2(alphabet), the alphabet being the sum of the classes
//    present (lower 26, upper 26, digits 10, other printable 33); a hex-only
//    string ([0-9a-fA-F]) counts at most 4 bits a character;
//  - fewer than 8 distinct bytes: at most 8 bits per distinct byte, so always weak.
double EstimateSecretBits(std::string_view secret);

// The secret in `path` with trailing \n/\r removed. Refuses a file that others
// (world) may read ("chmod 600 FILE"), an empty secret, and one estimated under
// 128 bits (the message gives the estimate and says `ka secret new FILE`).
Result<std::string> LoadSecret(const std::string& path);

}  // namespace ka::crypto
