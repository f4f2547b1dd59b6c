// Small string helpers shared across rooms: trimming, ASCII lower case, and the
// octal escapes of fstab, /proc/self/mounts and mountinfo (\040 for a space).
#pragma once

#include <string>
#include <string_view>

namespace ka {

// Without leading and trailing whitespace (space, \t, \r, \n, \v, \f).
std::string Trim(std::string_view s);

// ASCII letters in lower case; other bytes unchanged.
std::string Lower(std::string s);

// "\NNN" (three octal digits, the first 0-3) decoded to its byte; anything else,
// including a backslash not followed by such digits, kept as it is.
std::string UnescapeOctal(std::string_view s);

}  // namespace ka
