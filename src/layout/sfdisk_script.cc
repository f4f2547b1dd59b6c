#include "layout/sfdisk_script.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "os/part_name.h"

namespace ka::layout {

std::string SfdiskScript(const Table& table, const std::string& disk) {
  std::string s = table.label == TableLabel::kGpt ? "label: gpt\n" : "label: dos\n";
  if (!table.id.empty()) s += "label-id: " + table.id + "\n";
  s += "unit: sectors\n\n";
  for (const TableEntry& e : table.entries) {
    s += os::PartitionNodeName(disk, e.number) + " : start=" + std::to_string(e.start) +
         ", size=" + std::to_string(e.size) + ", type=" + e.type;
    if (table.label == TableLabel::kMbr) {
      if (e.bootable) s += ", bootable";
    } else {
      if (!e.uuid.empty()) s += ", uuid=" + e.uuid;
      if (!e.name.empty()) s += ", name=\"" + e.name + "\"";
      if (e.bootable) s += ", attrs=\"LegacyBIOSBootable\"";
    }
    s += "\n";
  }
  return s;
}

namespace {

Result<int> NumberFromNode(const std::string& node, const std::string& device) {
  std::string suffix = node;
  if (!device.empty() && node.size() > device.size() && node.compare(0, device.size(), device) == 0) {
    suffix = node.substr(device.size());
    if (suffix[0] == 'p') suffix = suffix.substr(1);
  } else {
    size_t k = node.size();
    while (k > 0 && std::isdigit(static_cast<unsigned char>(node[k - 1]))) --k;
    suffix = node.substr(k);
  }
  if (suffix.empty() || suffix.size() > 3 ||
      !std::all_of(suffix.begin(), suffix.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return Status::Corruption("sfdisk --json: cannot tell the partition number of '" + node + "'");
  return std::stoi(suffix);
}

}  // namespace

Result<Table> ParseSfdiskJson(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("partitiontable") || !j["partitiontable"].is_object())
    return Status::Corruption("sfdisk --json: output is not a partition table in JSON");
  const auto& pt = j["partitiontable"];
  Table t;
  try {
    std::string label = pt.value("label", "");
    if (label == "dos") {
      t.label = TableLabel::kMbr;
    } else if (label == "gpt") {
      t.label = TableLabel::kGpt;
    } else {
      return Status::Invalid("unsupported partition table kind '" + label + "' (ka handles dos/MBR and gpt)");
    }
    t.id = pt.value("id", "");
    if (t.label == TableLabel::kGpt) t.id = CanonicalGuid(t.id).empty() ? t.id : CanonicalGuid(t.id);
    t.sector_size = pt.value("sectorsize", 512u);
    if (pt.value("unit", "sectors") != "sectors") return Status::Corruption("sfdisk --json: unit is not sectors");
    const std::string device = pt.value("device", "");
    if (pt.contains("partitions")) {
      for (const auto& p : pt["partitions"]) {
        TableEntry e;
        auto n = NumberFromNode(p.value("node", ""), device);
        if (!n.ok()) return n.status();
        e.number = *n;
        e.start = p.at("start").get<uint64_t>();
        e.size = p.at("size").get<uint64_t>();
        e.type = p.at("type").get<std::string>();
        if (t.label == TableLabel::kGpt && !CanonicalGuid(e.type).empty()) e.type = CanonicalGuid(e.type);
        e.bootable = p.value("bootable", false);
        e.name = p.value("name", "");
        e.uuid = p.value("uuid", "");
        e.attrs = p.value("attrs", "");
        if (e.attrs.find("LegacyBIOSBootable") != std::string::npos) e.bootable = true;
        t.entries.push_back(e);
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("sfdisk --json: unexpected content: ") + e.what());
  }
  std::sort(t.entries.begin(), t.entries.end(),
            [](const TableEntry& a, const TableEntry& b) { return a.number < b.number; });
  return t;
}

}  // namespace ka::layout
