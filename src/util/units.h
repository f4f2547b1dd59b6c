// Parsing and printing of sizes ("128MiB", "1G") and rates ("1gbit") for the CLI and reports.
#pragma once

#include <cstdint>
#include <string>

#include "util/status.h"

namespace ka {

// Accepts a number with an optional suffix: K/KiB, M/MiB, G/GiB (binary), or B.
Result<uint64_t> ParseSize(const std::string& text);
// Rates in tc syntax: 100mbit, 1gbit, 2.5gbit, 10gbit, 500kbit, or plain bits/s (decimal units);
// bits per second.
Result<double> ParseRate(const std::string& text);
// A number with an optional fraction at the start of `text` (no sign, no space); the rest in *rest.
bool ParseLeadingNumber(const std::string& text, double* value, std::string* rest);
// 1536 -> "1.5 KiB".
std::string FormatBytes(uint64_t bytes);
// Hex encoding of bytes.
std::string ToHex(const void* data, size_t n);

}  // namespace ka
