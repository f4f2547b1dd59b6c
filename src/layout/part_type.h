// Partition types: the desc names (linux, swap, extended, efi, ...), raw MBR codes
// ("type83") and GPT type GUIDs, and their translation to what sfdisk writes.
#pragma once

#include <cstdint>
#include <string>

#include "util/status.h"

namespace ka::layout {

// The two kinds of partition table.
enum class TableLabel { kMbr, kGpt };
// "mbr" / "gpt" (the names a desc file uses).
const char* LabelName(TableLabel label);

// Exactly one of: a known name, a raw MBR code, a raw GPT type GUID.
struct PartType {
  std::string name;  // "linux", "swap", "extended", "efi", "bios", "lvm", "raid"
  int mbr = -1;      // raw MBR type code 0..255 ("type0c")
  std::string guid;  // raw GPT type GUID, upper case
  bool operator==(const PartType&) const = default;

  static PartType Named(std::string n) { return {std::move(n), -1, {}}; }
};

// Parses a desc type token: a name, "typeXX" (hex MBR code), "type<GUID>" or a bare GUID.
// Known codes and GUIDs become their names (type83 -> linux).
Result<PartType> ParsePartType(const std::string& token);
// The token a desc writes for this type: the name, "typeXX" or the GUID.
std::string FormatPartType(const PartType& t);

// True for MBR extended containers: "extended" and the raw codes 05, 0f, 85.
bool IsExtended(const PartType& t);
bool IsEfi(const PartType& t);
bool IsSwap(const PartType& t);

// The sfdisk type field for this table kind: MBR hex code without leading zero
// ("83", "c") or GPT GUID. Fails when the type has no equivalent in that kind.
Result<std::string> SfdiskType(const PartType& t, TableLabel label);
// The reverse: sfdisk's type field (as in sfdisk --json) to a PartType.
Result<PartType> PartTypeFromSfdisk(const std::string& field, TableLabel label);

// Upper-case canonical GUID if text is one (8-4-4-4-12 hex digits), else empty.
std::string CanonicalGuid(const std::string& text);

}  // namespace ka::layout
