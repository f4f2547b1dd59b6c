#include "layout/from_table.h"

#include <algorithm>

#include "layout/desc_parser.h"
#include "layout/plan.h"

namespace ka::layout {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;

SizeSpec SizeOf(uint64_t sectors, uint64_t ss) {
  uint64_t bytes = sectors * ss;
  if (bytes % kGiB == 0) return SizeSpec::GiB(bytes / kGiB);
  if (bytes % kMiB == 0) return SizeSpec::MiB(bytes / kMiB);
  return SizeSpec::Sectors(sectors);
}

SizeSpec StartOf(uint64_t sector, uint64_t ss) {
  uint64_t bytes = sector * ss;
  if (bytes % kMiB == 0) return SizeSpec::MiB(bytes / kMiB);
  return SizeSpec::Sectors(sector);
}

// True when `layout` plans to exactly the starts and sizes of `table` (entries in
// the same order).
bool Reproduces(const Layout& layout, const Table& table, const Geometry& g) {
  auto plan = PlanLayout(layout, g);
  if (!plan.ok()) return false;
  const auto& got = plan->table.entries;
  if (got.size() != table.entries.size()) return false;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i].number != table.entries[i].number || got[i].start != table.entries[i].start ||
        got[i].size != table.entries[i].size)
      return false;
  }
  return true;
}

}  // namespace

std::vector<TableEntry> EntriesInLineOrder(const Table& table) {
  std::vector<TableEntry> order = table.entries;
  std::stable_sort(order.begin(), order.end(),
                   [](const TableEntry& a, const TableEntry& b) { return a.number < b.number; });
  std::stable_partition(order.begin(), order.end(),
                        [&](const TableEntry& e) { return table.label == TableLabel::kGpt || e.number <= 4; });
  return order;
}

Result<Layout> LayoutFromTable(const Table& in, const Geometry& g, const FromTableOptions& options) {
  Table table = in;
  table.entries = EntriesInLineOrder(in);
  Layout layout;
  layout.label = table.label;
  layout.label_given = true;
  layout.id = options.keep_ids ? table.id : std::string();
  const uint64_t ss = table.sector_size;
  for (const TableEntry& e : table.entries) {
    Partition p;
    auto type = PartTypeFromSfdisk(e.type, table.label);
    if (!type.ok()) return type.status();
    p.type = *type;
    p.logical = table.label == TableLabel::kMbr && e.number > 4;
    p.size = SizeOf(e.size, ss);
    p.start = StartOf(e.start, ss);
    p.number = e.number;
    p.boot = e.bootable;
    // A desc cannot carry a name with a '"' or control characters: such names are left out.
    if (IsValidText(e.name) && e.name.find('"') == std::string::npos) p.name = e.name;
    if (table.label == TableLabel::kGpt && options.keep_ids) p.partuuid = e.uuid;
    layout.partitions.push_back(p);
  }
  // Fully explicit, the layout must reproduce the table; if even that fails (a table
  // made by other tools that breaks ka's rules), keep everything explicit.
  if (!Reproduces(layout, table, g)) return layout;
  // Drop what the defaults give anyway: numbers first, then starts.
  for (auto& p : layout.partitions) {
    auto keep = p.number;
    p.number.reset();
    if (!Reproduces(layout, table, g)) p.number = keep;
  }
  for (auto& p : layout.partitions) {
    auto keep = p.start;
    p.start.reset();
    if (!Reproduces(layout, table, g)) p.start = keep;
  }
  if (options.fill_last) {
    // The last line of each level, when it alone reaches that level's end.
    for (int level = 0; level < 2; ++level) {
      for (size_t k = layout.partitions.size(); k-- > 0;) {
        Partition& p = layout.partitions[k];
        if (p.logical != (level == 1)) continue;
        SizeSpec keep = p.size;
        p.size = SizeSpec::Fill();
        if (!Reproduces(layout, table, g)) p.size = keep;
        break;
      }
    }
  }
  return layout;
}

}  // namespace ka::layout
