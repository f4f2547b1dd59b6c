#include "control/text.h"

#include <cstdint>

namespace ka::control {
namespace {

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the valid UTF-8 sequence at text[i] (1-4), or 0 when it is not valid
// (overlong forms, surrogates and code points above U+10FFFF are rejected).
size_t ValidSequenceLength(std::string_view text, size_t i, uint32_t* code_point) {
  auto c = static_cast<unsigned char>(text[i]);
  size_t len;
  uint32_t cp;
  if (c < 0x80) {
    *code_point = c;
    return 1;
  } else if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    auto cc = static_cast<unsigned char>(text[i + k]);
    if (!IsContinuation(cc)) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  *code_point = cp;
  return len;
}

}  // namespace

std::string SanitizeText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    uint32_t cp = 0;
    size_t len = ValidSequenceLength(text, i, &cp);
    if (len == 0) {
      out.push_back('?');
      ++i;
      continue;
    }
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) out.push_back(' ');
    else out.append(text.substr(i, len));
    i += len;
  }
  return out;
}

size_t Columns(std::string_view text) {
  size_t n = 0;
  for (char c : text)
    if (!IsContinuation(static_cast<unsigned char>(c))) ++n;
  return n;
}

std::string TruncateColumns(std::string_view text, size_t max_columns) {
  size_t columns = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (IsContinuation(static_cast<unsigned char>(text[i]))) continue;
    if (columns == max_columns) return std::string(text.substr(0, i));
    ++columns;
  }
  return std::string(text);
}

std::string PadRight(std::string_view text, size_t columns) {
  std::string s(text);
  size_t n = Columns(text);
  if (n < columns) s.append(columns - n, ' ');
  return s;
}

std::string PadLeft(std::string_view text, size_t columns) {
  size_t n = Columns(text);
  std::string s = n < columns ? std::string(columns - n, ' ') : std::string();
  s.append(text);
  return s;
}

std::string PadCenter(std::string_view text, size_t columns) {
  size_t n = Columns(text);
  if (n >= columns) return std::string(text);
  size_t left = (columns - n) / 2;
  return std::string(left, ' ') + std::string(text) + std::string(columns - n - left, ' ');
}

std::string TrimRight(std::string text) {
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace ka::control
