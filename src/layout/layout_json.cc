#include "layout/layout_json.h"

#include <nlohmann/json.hpp>

#include "layout/desc_writer.h"
#include "layout/from_table.h"
#include "os/part_name.h"

namespace ka::layout {

std::string DescriptionJson(const Description& d) {
  nlohmann::ordered_json j;
  j["disk"] = d.disk.path;
  j["block_device"] = d.disk.block_device;
  j["size_bytes"] = d.disk.geometry.size_bytes;
  j["sector_size"] = d.disk.geometry.sector_size;
  j["label"] = LabelName(d.layout.label);
  j["id"] = d.layout.id;
  j["partitions"] = nlohmann::ordered_json::array();
  // Layout lines and table entries pair up by partition number, in line order.
  const std::vector<TableEntry> order = EntriesInLineOrder(d.table);
  for (size_t i = 0; i < order.size() && i < d.layout.partitions.size(); ++i) {
    const TableEntry& e = order[i];
    const Partition& p = d.layout.partitions[i];
    nlohmann::ordered_json o;
    o["number"] = e.number;
    o["node"] = d.disk.block_device ? os::PartitionNodeName(d.disk.path, e.number) : "";
    o["type"] = FormatPartType(p.type);
    o["sfdisk_type"] = e.type;
    o["logical"] = p.logical;
    o["start"] = e.start;
    o["sectors"] = e.size;
    o["bytes"] = e.size * d.table.sector_size;
    o["size"] = FormatSizeSpec(p.size);
    o["boot"] = p.boot;
    o["name"] = p.name;
    o["partuuid"] = p.partuuid;
    o["fs"] = p.fs;
    o["uuid"] = p.uuid;
    o["label"] = p.label;
    j["partitions"].push_back(o);
  }
  j["desc"] = WriteDesc(d.layout);
  return j.dump(2) + "\n";
}

}  // namespace ka::layout
