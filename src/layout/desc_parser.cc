#include "layout/desc_parser.h"

#include <cctype>
#include <cstdio>
#include <set>
#include <vector>

#include "util/strings.h"

namespace ka::layout {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Splits a line into tokens: blanks separate them, '#' at the start of a token
// starts a comment, and "..." quotes (with \" and \\) may appear inside a token
// (name="EFI System").
Result<std::vector<std::string>> Tokenize(const std::string& line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsBlank(line[i])) ++i;
    if (i >= line.size() || line[i] == '#') break;
    std::string tok;
    while (i < line.size() && !IsBlank(line[i])) {
      char c = line[i];
      if (c == '"') {
        ++i;
        bool closed = false;
        while (i < line.size()) {
          char q = line[i++];
          if (q == '"') {
            closed = true;
            break;
          }
          if (q == '\\' && i < line.size() && (line[i] == '"' || line[i] == '\\')) q = line[i++];
          // Quoted or not, no control characters (a desc written back could not hold them).
          if (static_cast<unsigned char>(q) < 0x20) return Status::Invalid("control character in the line");
          tok += q;
        }
        if (!closed) return Status::Invalid("unterminated quote");
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x20) return Status::Invalid("control character in the line");
      tok += c;
      ++i;
    }
    out.push_back(tok);
  }
  return out;
}

Result<uint64_t> ParseCount(const std::string& digits, const std::string& what) {
  if (digits.empty()) return Status::Invalid(what + " has no number");
  uint64_t v = 0;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return Status::Invalid(what + " is not a whole number");
    if (v > (UINT64_MAX - 9) / 10) return Status::Invalid(what + " is too large");
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

Result<std::string> ParseDiskId(const std::string& v, TableLabel label) {
  if (label == TableLabel::kGpt) {
    std::string g = CanonicalGuid(v);
    if (g.empty()) return Status::Invalid("id=" + v + ": a GPT disk id is a GUID (8-4-4-4-12 hex digits)");
    return g;
  }
  std::string hex = Lower(v);
  if (hex.rfind("0x", 0) == 0) hex = hex.substr(2);
  bool ok = !hex.empty() && hex.size() <= 8;
  for (char c : hex) ok = ok && std::isxdigit(static_cast<unsigned char>(c));
  if (!ok) return Status::Invalid("id=" + v + ": an MBR disk id is up to 8 hex digits (0x1234abcd)");
  char b[16];
  std::snprintf(b, sizeof b, "0x%08lx", std::stoul(hex, nullptr, 16));
  return std::string(b);
}

Status ParseHeader(const std::vector<std::string>& toks, Layout& layout) {
  if (toks.size() < 2) return Status::Invalid("'label' needs a table kind: label mbr or label gpt");
  std::string kind = toks[1];
  if (kind == "mbr" || kind == "dos") {
    layout.label = TableLabel::kMbr;
  } else if (kind == "gpt") {
    layout.label = TableLabel::kGpt;
  } else {
    return Status::Invalid("unknown table kind '" + kind + "': use label mbr or label gpt");
  }
  layout.label_given = true;
  for (size_t i = 2; i < toks.size(); ++i) {
    const std::string& t = toks[i];
    if (t.rfind("id=", 0) != 0)
      return Status::Invalid("unexpected '" + t + "' after 'label " + kind + "' (only id=... may follow)");
    if (!layout.id.empty()) return Status::Invalid("id= given twice");
    auto id = ParseDiskId(t.substr(3), layout.label);
    if (!id.ok()) return id.status();
    layout.id = *id;
  }
  return Status::Ok();
}

Result<SizeSpec> ParseStart(const std::string& v) {
  auto s = ParseSizeSpec(v);
  if (!s.ok()) return Status::Invalid("start=" + v + ": " + s.status().message());
  if (s->unit == SizeSpec::Unit::kFill || s->unit == SizeSpec::Unit::kPercent)
    return Status::Invalid("start=" + v + ": a start is a position (2048s, 1MiB), not fill or a percentage");
  return *s;
}

Status ParseAttribute(const std::string& tok, Partition& p, std::set<std::string>& seen) {
  if (tok == "boot" || tok == "bootable") {
    if (!seen.insert("boot").second) return Status::Invalid("'boot' given twice");
    p.boot = true;
    return Status::Ok();
  }
  size_t eq = tok.find('=');
  if (eq == std::string::npos)
    return Status::Invalid("unexpected '" + tok + "' (attributes are key=value, the one flag is 'boot')");
  std::string key = tok.substr(0, eq), v = tok.substr(eq + 1);
  static const std::set<std::string> kKeys = {"fs", "mount", "label", "uuid", "name", "partuuid", "start", "number"};
  if (kKeys.count(key) == 0)
    return Status::Invalid("unknown attribute '" + key +
                           "=' (known: fs, mount, label, uuid, name, partuuid, start, number, and the flag boot)");
  if (!seen.insert(key).second) return Status::Invalid(key + "= given twice");
  if (v.empty()) return Status::Invalid(key + "= needs a value");
  if (key == "fs") {
    if (!IsValidFsType(v))
      return Status::Invalid("fs=" + v + ": not a filesystem type name (ext4, xfs, vfat, swap, ...)");
    p.fs = v;
  } else if (key == "mount") {
    if (v[0] != '/') return Status::Invalid("mount=" + v + ": a mount point is an absolute path (/, /boot/efi)");
    p.mount = v;
  } else if (key == "label") {
    p.label = v;
  } else if (key == "uuid") {
    if (!IsValidFsUuid(v)) return Status::Invalid("uuid=" + v + ": a filesystem UUID is hex digits and dashes");
    p.uuid = v;
  } else if (key == "name") {
    size_t chars = 0;
    for (char c : v) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // UTF-8 code points
    if (chars > 36) return Status::Invalid("name=" + v + ": a GPT partition name has at most 36 characters");
    if (v.find('"') != std::string::npos) return Status::Invalid("name=: a partition name cannot contain '\"'");
    p.name = v;
  } else if (key == "partuuid") {
    std::string g = CanonicalGuid(v);
    if (g.empty()) return Status::Invalid("partuuid=" + v + ": a partition GUID is 8-4-4-4-12 hex digits");
    p.partuuid = g;
  } else if (key == "start") {
    auto s = ParseStart(v);
    if (!s.ok()) return s.status();
    p.start = *s;
  } else if (key == "number") {
    auto n = ParseCount(v, "number=" + v);
    if (!n.ok()) return n.status();
    if (*n < 1 || *n > 128) return Status::Invalid("number=" + v + ": partition numbers go from 1 to 128");
    p.number = static_cast<int>(*n);
  }
  return Status::Ok();
}

Result<Partition> ParsePartitionLine(const std::vector<std::string>& toks) {
  Partition p;
  size_t i = 0;
  if (toks[0] == "logical") {
    p.logical = true;
    ++i;
  }
  if (i >= toks.size()) return Status::Invalid("'logical' needs a type and a size (logical linux fill)");
  if (toks[i].find('=') != std::string::npos)
    return Status::Invalid("a partition line starts with its type (linux, swap, ...), not '" + toks[i] + "'");
  auto type = ParsePartType(toks[i]);
  if (!type.ok()) return type.status();
  p.type = *type;
  ++i;
  if (i >= toks.size())
    return Status::Invalid("missing size after '" + toks[i - 1] + "' (MiB as in 3500, or 20GiB, 50%, fill)");
  auto size = ParseSizeSpec(toks[i]);
  if (!size.ok()) return Status::Invalid("size '" + toks[i] + "': " + size.status().message());
  p.size = *size;
  ++i;
  std::set<std::string> seen;
  for (; i < toks.size(); ++i) KA_RETURN_IF_ERROR(ParseAttribute(toks[i], p, seen));
  return p;
}

}  // namespace

bool IsValidFsType(const std::string& s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  return true;
}

bool IsValidFsUuid(const std::string& s) {
  if (s.size() < 4 || s.size() > 36) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != '-') return false;
  return true;
}

bool IsValidText(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

Result<SizeSpec> ParseSizeSpec(const std::string& token) {
  if (token == "fill") return SizeSpec::Fill();
  size_t n = 0;
  while (n < token.size() && std::isdigit(static_cast<unsigned char>(token[n]))) ++n;
  if (n == 0) return Status::Invalid("not a size (MiB as in 3500, or 500M, 20GiB, 614400s, 50%, fill)");
  std::string unit = Lower(token.substr(n));
  if (!unit.empty() && (unit[0] == '.' || unit[0] == ','))
    return Status::Invalid("sizes are whole numbers (write 1536MiB rather than 1.5GiB)");
  auto v = ParseCount(token.substr(0, n), "size");
  if (!v.ok()) return v.status();
  SizeSpec s;
  s.value = *v;
  if (unit.empty() || unit == "m" || unit == "mib") {
    s.unit = SizeSpec::Unit::kMiB;
  } else if (unit == "g" || unit == "gib") {
    s.unit = SizeSpec::Unit::kGiB;
  } else if (unit == "t" || unit == "tib") {
    s.unit = SizeSpec::Unit::kTiB;
  } else if (unit == "s") {
    s.unit = SizeSpec::Unit::kSectors;
  } else if (unit == "%") {
    s.unit = SizeSpec::Unit::kPercent;
    if (s.value > 100) return Status::Invalid("a percentage is at most 100%");
  } else if (unit == "mb" || unit == "gb" || unit == "tb" || unit == "kb" || unit == "k" || unit == "kib") {
    return Status::Invalid("unit '" + token.substr(n) + "' not accepted: use MiB, GiB or TiB (sizes are binary)");
  } else {
    return Status::Invalid("unknown unit '" + token.substr(n) + "' (use MiB, GiB, TiB, s for sectors, or %)");
  }
  if (s.value == 0) return Status::Invalid("a size must be greater than zero");
  // Keep every size representable in bytes.
  uint64_t limit = s.unit == SizeSpec::Unit::kGiB       ? (UINT64_MAX >> 30)
                   : s.unit == SizeSpec::Unit::kTiB     ? (UINT64_MAX >> 40)
                   : s.unit == SizeSpec::Unit::kSectors ? (UINT64_MAX >> 12)
                                                        : (UINT64_MAX >> 20);
  if (s.value > limit) return Status::Invalid("size is too large");
  return s;
}

Result<Layout> ParseDesc(const std::string& text) {
  Layout layout;
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto where = [&](const Status& s) {
      return Status::Invalid("desc line " + std::to_string(line_no) + ": " + s.message());
    };
    auto toks = Tokenize(line);
    if (!toks.ok()) return where(toks.status());
    if (toks->empty()) continue;
    if ((*toks)[0] == "label") {
      if (layout.label_given) return where(Status::Invalid("a second 'label' line (one per desc)"));
      if (!layout.partitions.empty()) return where(Status::Invalid("'label' must come before the partition lines"));
      Status s = ParseHeader(*toks, layout);
      if (!s.ok()) return where(s);
      continue;
    }
    auto p = ParsePartitionLine(*toks);
    if (!p.ok()) return where(p.status());
    p->line = line_no;
    layout.partitions.push_back(std::move(*p));
  }
  return layout;
}

}  // namespace ka::layout
