// Byte strings (file names) as unambiguous printable text.
#pragma once

#include <string>

namespace ka {

// Printable ASCII stays as is except '\\' -> "\\\\" and space -> "\\x20"; every other
// byte (controls, newline, non-ASCII, UTF-8 sequences) becomes "\\xHH". The result has
// no spaces and maps back to exactly one byte string.
std::string EscapeBytes(const std::string& s);

}  // namespace ka
