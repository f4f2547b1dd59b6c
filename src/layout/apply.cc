#include "layout/apply.h"

#include <algorithm>

#include "layout/sfdisk_script.h"
#include "util/log.h"

namespace ka::layout {
namespace {

// The table read back must have the planned partitions (ids are sfdisk's when the
// layout left them open).
Status SameTable(const Table& want, const Table& got) {
  if (want.label != got.label) return Status::Io(std::string("table kind is ") + LabelName(got.label));
  if (want.entries.size() != got.entries.size())
    return Status::Io(std::to_string(got.entries.size()) + " partitions instead of " +
                      std::to_string(want.entries.size()));
  std::vector<TableEntry> w = want.entries;
  std::sort(w.begin(), w.end(), [](const TableEntry& a, const TableEntry& b) { return a.number < b.number; });
  for (size_t i = 0; i < w.size(); ++i) {
    const TableEntry& a = w[i];
    const TableEntry& b = got.entries[i];
    if (a.number != b.number || a.start != b.start || a.size != b.size || a.type != b.type || a.bootable != b.bootable)
      return Status::Io("partition " + std::to_string(a.number) + " differs (start " + std::to_string(b.start) +
                        " size " + std::to_string(b.size) + " type " + b.type + ")");
  }
  return Status::Ok();
}

}  // namespace

Result<ApplyResult> ApplyLayout(os::Env& ops, const std::string& disk_arg, const Layout& layout,
                                const ApplyOptions& options) {
  auto disk = ops.Inspect(disk_arg);
  if (!disk.ok()) return disk.status();
  auto plan = PlanLayout(layout, disk->geometry);
  if (!plan.ok()) return plan.status();
  ApplyResult result{*disk, *plan, SfdiskScript(plan->table, disk->path), {}};

  std::vector<std::string> users = ops.Users(*disk);
  if (!users.empty()) {
    std::string all;
    for (const auto& u : users) all += (all.empty() ? "" : "; ") + u;
    return Status::Refused(disk->path + " is in use, not touching it: " + all);
  }
  Status check = ops.CheckScript(disk->path, result.script);
  if (!check.ok()) return check.Wrap("sfdisk refused the planned table (nothing was written)");
  if (options.dry_run) return result;

  // From here on the disk changes.
  auto released = ReleasePartitions(ops, *disk);
  if (!released.ok()) return released.status();
  for (const auto& d : *released) LogInfo("detached old partition loop device {}", d);
  KA_RETURN_IF_ERROR(ops.WipeSignatures(disk->path).Wrap("wiping old signatures of " + disk->path));
  KA_RETURN_IF_ERROR(ops.WriteTable(disk->path, result.script).Wrap("writing the partition table of " + disk->path));

  auto json = ops.ReadTableJson(disk->path);
  if (!json.ok()) return json.status().Wrap("reading back the table of " + disk->path);
  auto written = ParseSfdiskJson(*json);
  if (!written.ok()) return written.status().Wrap("reading back the table of " + disk->path);
  Status same = SameTable(plan->table, *written);
  if (!same.ok()) return same.Wrap("the table on " + disk->path + " is not the one planned");

  auto devices = ExposePartitions(ops, *disk, *written, options.expose);
  if (!devices.ok()) return devices.status().Wrap("the table is written, but its partitions are not usable");
  result.devices = std::move(*devices);
  return result;
}

}  // namespace ka::layout
