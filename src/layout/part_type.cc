#include "layout/part_type.h"

#include <array>
#include <cctype>
#include <cstdio>

namespace ka::layout {
namespace {

struct Known {
  const char* name;
  int mbr;           // -1: none
  const char* guid;  // nullptr: none
};

constexpr std::array<Known, 7> kKnown = {{
    {"linux", 0x83, "0FC63DAF-8483-4772-8E79-3D69D8477DE4"},
    {"swap", 0x82, "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"},
    {"extended", 0x05, nullptr},
    {"efi", 0xef, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"},
    {"bios", -1, "21686148-6449-6E6F-744E-656564454649"},
    {"lvm", 0x8e, "E6D6D379-F507-44C2-A23C-238F2A3DF928"},
    {"raid", 0xfd, "A19D880F-05FC-4D3B-A006-743F0F84911E"},
}};

// FAT and NTFS codes map to GPT "Microsoft basic data" when a raw code is used on GPT.
constexpr const char* kMsBasicData = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7";
bool IsMsDataCode(int c) {
  return c == 0x01 || c == 0x04 || c == 0x06 || c == 0x07 || c == 0x0b || c == 0x0c || c == 0x0e;
}

const Known* FindName(const std::string& n) {
  for (const auto& k : kKnown)
    if (n == k.name) return &k;
  return nullptr;
}

PartType FromMbr(int code) {
  for (const auto& k : kKnown)
    if (k.mbr == code) return PartType::Named(k.name);
  return {{}, code, {}};
}

PartType FromGuid(const std::string& guid) {
  for (const auto& k : kKnown)
    if (k.guid != nullptr && guid == k.guid) return PartType::Named(k.name);
  return {{}, -1, guid};
}

std::string Hex2(int code) {
  char b[16];
  std::snprintf(b, sizeof b, "%02x", code);
  return b;
}

std::string KnownNames() {
  std::string s;
  for (const auto& k : kKnown) s += std::string(s.empty() ? "" : ", ") + k.name;
  return s;
}

}  // namespace

const char* LabelName(TableLabel label) { return label == TableLabel::kGpt ? "gpt" : "mbr"; }

std::string CanonicalGuid(const std::string& text) {
  if (text.size() != 36) return {};
  std::string out = text;
  for (size_t i = 0; i < out.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash) {
      if (out[i] != '-') return {};
    } else {
      if (!std::isxdigit(static_cast<unsigned char>(out[i]))) return {};
      out[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[i])));
    }
  }
  return out;
}

Result<PartType> ParsePartType(const std::string& token) {
  if (FindName(token) != nullptr) return PartType::Named(token);
  std::string rest = token;
  bool had_prefix = false;
  if (token.rfind("type", 0) == 0) {
    rest = token.substr(4);
    had_prefix = true;
  }
  if (had_prefix && !rest.empty() && rest.size() <= 2) {
    int code = 0;
    for (char c : rest) {
      if (!std::isxdigit(static_cast<unsigned char>(c)))
        return Status::Invalid("bad type '" + token + "': typeXX takes one or two hex digits (type83, type0c)");
      code = code * 16 + (std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10);
    }
    if (code == 0) return Status::Invalid("bad type '" + token + "': type00 marks an empty slot, not a partition");
    return FromMbr(code);
  }
  std::string guid = CanonicalGuid(rest);
  if (!guid.empty()) return FromGuid(guid);
  if (had_prefix)
    return Status::Invalid("bad type '" + token + "': typeXX takes one or two hex digits (type83) or a GPT type GUID");
  return Status::Invalid("unknown partition type '" + token + "' (known: " + KnownNames() +
                         ", typeXX with a hex MBR code, or a GPT type GUID)");
}

std::string FormatPartType(const PartType& t) {
  if (!t.name.empty()) return t.name;
  if (t.mbr >= 0) return "type" + Hex2(t.mbr);
  return t.guid;
}

bool IsExtended(const PartType& t) { return t.name == "extended" || t.mbr == 0x05 || t.mbr == 0x0f || t.mbr == 0x85; }
bool IsEfi(const PartType& t) { return t.name == "efi"; }
bool IsSwap(const PartType& t) { return t.name == "swap"; }

Result<std::string> SfdiskType(const PartType& t, TableLabel label) {
  const Known* k = t.name.empty() ? nullptr : FindName(t.name);
  if (label == TableLabel::kMbr) {
    int code = k != nullptr ? k->mbr : t.mbr;
    if (code < 0)
      return Status::Invalid("type " + FormatPartType(t) + " has no MBR code: use 'label gpt' or a typeXX code");
    char b[16];
    std::snprintf(b, sizeof b, "%x", code);
    return std::string(b);
  }
  if (k != nullptr) {
    if (k->guid == nullptr) return Status::Invalid("type " + t.name + " exists only on MBR disks ('label mbr')");
    return std::string(k->guid);
  }
  if (!t.guid.empty()) return t.guid;
  if (IsExtended(t)) return Status::Invalid("type " + FormatPartType(t) + " (extended) exists only on MBR disks");
  if (IsMsDataCode(t.mbr)) return std::string(kMsBasicData);
  return Status::Invalid("MBR type " + FormatPartType(t) + " has no GPT equivalent here: give the GPT type GUID");
}

Result<PartType> PartTypeFromSfdisk(const std::string& field, TableLabel label) {
  if (label == TableLabel::kGpt) {
    std::string g = CanonicalGuid(field);
    if (g.empty()) return Status::Corruption("sfdisk reported GPT type '" + field + "', not a GUID");
    return FromGuid(g);
  }
  if (field.empty() || field.size() > 2) return Status::Corruption("sfdisk reported MBR type '" + field + "'");
  int code = 0;
  for (char c : field) {
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return Status::Corruption("sfdisk reported MBR type '" + field + "', not hex");
    code = code * 16 + (std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10);
  }
  return FromMbr(code);
}

}  // namespace ka::layout
