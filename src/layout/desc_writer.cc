#include "layout/desc_writer.h"

namespace ka::layout {
namespace {

// Quotes a value when the desc tokenizer would otherwise split or misread it.
std::string Value(const std::string& v) {
  bool plain = !v.empty() && v[0] != '#';
  for (char c : v)
    if (c == ' ' || c == '\t' || c == '"' || c == '\\') plain = false;
  if (plain) return v;
  std::string q = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

}  // namespace

std::string FormatSizeSpec(const SizeSpec& s) {
  std::string v = std::to_string(s.value);
  switch (s.unit) {
    case SizeSpec::Unit::kMiB:
      return v;
    case SizeSpec::Unit::kGiB:
      return v + "GiB";
    case SizeSpec::Unit::kTiB:
      return v + "TiB";
    case SizeSpec::Unit::kSectors:
      return v + "s";
    case SizeSpec::Unit::kPercent:
      return v + "%";
    case SizeSpec::Unit::kFill:
      return "fill";
  }
  return v;
}

std::string FormatStartSpec(const SizeSpec& s) {
  return s.unit == SizeSpec::Unit::kMiB ? std::to_string(s.value) + "MiB" : FormatSizeSpec(s);
}

std::string WriteDesc(const Layout& layout) {
  std::string out;
  if (layout.label_given || layout.label == TableLabel::kGpt || !layout.id.empty()) {
    out += std::string("label ") + LabelName(layout.label);
    if (!layout.id.empty()) out += " id=" + layout.id;
    out += "\n";
  }
  for (const Partition& p : layout.partitions) {
    std::string line;
    if (p.logical) line += "logical ";
    line += FormatPartType(p.type) + " " + FormatSizeSpec(p.size);
    if (p.start) line += " start=" + FormatStartSpec(*p.start);
    if (p.number) line += " number=" + std::to_string(*p.number);
    if (p.boot) line += " boot";
    if (!p.name.empty()) line += " name=" + Value(p.name);
    if (!p.fs.empty()) line += " fs=" + Value(p.fs);
    if (!p.mount.empty()) line += " mount=" + Value(p.mount);
    if (!p.label.empty()) line += " label=" + Value(p.label);
    if (!p.uuid.empty()) line += " uuid=" + Value(p.uuid);
    if (!p.partuuid.empty()) line += " partuuid=" + p.partuuid;
    out += line + "\n";
  }
  return out;
}

}  // namespace ka::layout
