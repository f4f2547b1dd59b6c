// Parsing and printing of sizes ("128MiB", "1G") and rates for the CLI and reports.
#pragma once

#include <cstdint>
#include <string>

#include "util/status.h"

namespace ka {

// Accepts a number with an optional suffix: K/KiB, M/MiB, G/GiB (binary), or B.
Result<uint64_t> ParseSize(const std::string& text);
// 1536 -> "1.5 KiB".
std::string FormatBytes(uint64_t bytes);
// Hex encoding of bytes.
std::string ToHex(const void* data, size_t n);

}  // namespace ka
