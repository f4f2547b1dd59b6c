// Terminal text helpers for the control views: untrusted strings made safe to print, and
// UTF-8 aware column counting, truncation and padding. A display column is counted as one
// code point (an approximation: wide CJK glyphs and combining marks are not special-cased).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ka::control {

// Makes text from a snapshot (node names, messages) safe for a terminal or a log: valid
// UTF-8 is kept, control characters (C0, DEL, C1; so no ESC or CSI) become a space, and
// bytes that are not valid UTF-8 become '?'. The result is always valid UTF-8.
std::string SanitizeText(std::string_view text);

// Display columns of valid UTF-8 text (code points).
size_t Columns(std::string_view text);

// The longest prefix of text that fits in max_columns, never cut inside a multi-byte character.
std::string TruncateColumns(std::string_view text, size_t max_columns);

// Pads with spaces to at least `columns` display columns (never truncates).
std::string PadRight(std::string_view text, size_t columns);
std::string PadLeft(std::string_view text, size_t columns);
std::string PadCenter(std::string_view text, size_t columns);

// Removes trailing spaces.
std::string TrimRight(std::string text);

}  // namespace ka::control
