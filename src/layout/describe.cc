#include "layout/describe.h"

#include "layout/desc_parser.h"
#include "layout/sfdisk_script.h"
#include "util/log.h"

namespace ka::layout {

Result<Description> DescribeDisk(os::Env& ops, const std::string& disk_arg, const DescribeOptions& options) {
  auto disk = ops.Inspect(disk_arg);
  if (!disk.ok()) return disk.status();
  auto json = ops.ReadTableJson(disk->path);
  if (!json.ok()) return json.status();
  if (json->empty()) return Status::Invalid(disk->path + " has no partition table (nothing to describe)");
  auto table = ParseSfdiskJson(*json);
  if (!table.ok()) return table.status().Wrap(disk->path);
  auto layout = LayoutFromTable(*table, disk->geometry, options.table);
  if (!layout.ok()) return layout.status().Wrap(disk->path);

  if (options.probe_filesystems) {
    const std::vector<TableEntry> order = EntriesInLineOrder(*table);  // order[i] is line i
    for (size_t i = 0; i < order.size(); ++i) {
      Partition& p = layout->partitions[i];
      if (IsExtended(p.type)) continue;
      const uint64_t ss = table->sector_size;
      auto fs = ops.ProbeFilesystem(disk->path, order[i].start * ss, order[i].size * ss);
      if (!fs.ok()) {
        LogWarn("partition {}: filesystem probe failed: {}", order[i].number, fs.status().message());
        continue;
      }
      // Keep only what a desc can carry (and ParseDesc reads back).
      if (IsValidFsType(fs->type)) p.fs = fs->type;
      if (IsValidFsUuid(fs->uuid)) p.uuid = fs->uuid;
      if (IsValidText(fs->label)) p.label = fs->label;
    }
  }
  return Description{*disk, *table, *layout};
}

}  // namespace ka::layout
