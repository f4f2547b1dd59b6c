#include "layout/plan.h"

#include <algorithm>
#include <cstdio>

#include "layout/validate.h"

namespace ka::layout {
namespace {

__extension__ typedef unsigned __int128 U128;  // exact products of sizes and counts

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kMbrLimit = 1ull << 32;  // MBR fields are 32-bit sector numbers

uint64_t AlignUp(uint64_t v, uint64_t g) { return (v + g - 1) / g * g; }
uint64_t AlignDown(uint64_t v, uint64_t g) { return v / g * g; }

// "300 MiB" or "299.5 MiB".
std::string Mib(uint64_t sectors, uint64_t ss) {
  U128 bytes = static_cast<U128>(sectors) * ss;
  char b[48];
  if (bytes % kMiB == 0) {
    std::snprintf(b, sizeof b, "%llu MiB", static_cast<unsigned long long>(bytes / kMiB));
  } else {
    std::snprintf(b, sizeof b, "%.2f MiB", static_cast<double>(bytes) / kMiB);
  }
  return b;
}

std::string DiskText(const Geometry& g) {
  return std::to_string(g.size_bytes) + " bytes, " + Mib(g.sectors(), g.sector_size);
}

struct Placed {
  uint64_t start = 0;
  uint64_t size = 0;
};

class Planner {
 public:
  Planner(const Layout& l, const Geometry& g, const UsableRange& r) : l_(l), g_(g), r_(r) {}

  Result<std::vector<Placed>> Run() {
    const auto& parts = l_.partitions;
    fixed_.assign(parts.size(), 0);
    starts_.assign(parts.size(), 0);
    for (size_t i = 0; i < parts.size(); ++i) {
      const Partition& p = parts[i];
      if (!p.size.is_fill()) {
        auto s = SpecToSectors(p.size, g_);
        if (!s.ok()) return At(i, "size " + s.status().message());
        fixed_[i] = *s;
      }
      if (p.start) {
        auto s = SpecToSectors(*p.start, g_);
        if (!s.ok()) return At(i, "start= " + s.status().message());
        starts_[i] = *s;
      }
    }
    placed_.assign(parts.size(), Placed{});
    std::vector<size_t> top, logical;
    int ext = -1;
    for (size_t i = 0; i < parts.size(); ++i) {
      (parts[i].logical ? logical : top).push_back(i);
      if (IsExtended(parts[i].type) && !parts[i].logical) ext = static_cast<int>(i);
    }
    KA_RETURN_IF_ERROR(PlaceLevel(top, r_.first, r_.last, false, -1));
    if (ext >= 0 && !logical.empty()) {
      const Placed& e = placed_[ext];
      KA_RETURN_IF_ERROR(PlaceLevel(logical, e.start, e.start + e.size - 1, true, ext));
    }
    return placed_;
  }

 private:
  Status At(size_t i, const std::string& why) const { return Status::Invalid(Where(l_.partitions[i], i) + ": " + why); }

  // Places one level (top level, or the logical partitions inside [lo, hi]).
  void Pass(const std::vector<size_t>& idx, uint64_t lo, bool logical, uint64_t fill_size, uint64_t* end_cursor) {
    uint64_t cursor = lo;
    bool first = true;
    for (size_t i : idx) {
      const Partition& p = l_.partitions[i];
      uint64_t s;
      if (p.start) {
        s = starts_[i];
      } else if (logical) {
        // Each logical partition follows its EBR; sfdisk leaves 1 MiB for it.
        s = AlignUp(cursor + (first ? 1 : r_.grain), r_.grain);
      } else {
        s = AlignUp(cursor, r_.grain);
      }
      uint64_t size = p.size.is_fill() ? fill_size : fixed_[i];
      placed_[i] = {s, size};
      cursor = s + size;
      first = false;
    }
    *end_cursor = cursor;
  }

  Status CheckFit(const std::vector<size_t>& idx, uint64_t lo, uint64_t hi, bool logical, const std::string& where,
                  int skip) const {
    for (size_t i : idx) {
      if (static_cast<int>(i) == skip) continue;
      const Placed& p = placed_[i];
      const uint64_t floor = logical ? lo + 1 : r_.min_start;
      if (p.start < floor)
        return At(i, "start= sector " + std::to_string(p.start) + " is before the first usable sector " +
                         std::to_string(floor) + " " + where);
      if (p.start + p.size - 1 > hi) {
        uint64_t need = p.start + p.size - lo;
        return At(i, "does not fit " + where + ": the partitions up to this line need " + Mib(need, g_.sector_size) +
                         " but only " + Mib(hi - lo + 1, g_.sector_size) + " are usable (" +
                         Mib(need - (hi - lo + 1), g_.sector_size) + " short)");
      }
    }
    return Status::Ok();
  }

  Status PlaceLevel(const std::vector<size_t>& idx, uint64_t lo, uint64_t hi, bool logical, int ext) {
    int fill = -1;
    for (size_t i : idx)
      if (l_.partitions[i].size.is_fill()) fill = static_cast<int>(i);
    uint64_t cursor = 0;
    Pass(idx, lo, logical, 0, &cursor);
    const std::string where = logical ? "in the extended partition (" + Where(l_.partitions[ext], ext) + ", " +
                                            Mib(hi - lo + 1, g_.sector_size) + ")"
                                      : "on the disk (" + DiskText(g_) + ")";
    // Every fixed partition must fit even with an empty fill.
    KA_RETURN_IF_ERROR(CheckFit(idx, lo, hi, logical, where, fill));
    if (fill >= 0) {
      const Placed f = placed_[fill];
      uint64_t fill_size = 0;
      if (static_cast<size_t>(fill) == idx.back()) {
        // Last at its level: up to the last full MiB, as sfdisk does.
        if (f.start <= hi) {
          uint64_t end_excl = AlignDown(hi + 1, r_.grain);
          if (end_excl <= f.start) end_excl = hi + 1;
          fill_size = end_excl - f.start;
        }
      } else if (cursor <= hi + 1) {
        // Followed by others: they move by a whole number of MiB and keep their alignment.
        fill_size = AlignDown(hi + 1 - cursor, r_.grain);
      }
      if (fill_size == 0) {
        uint64_t used = cursor > lo ? cursor - lo : 0;
        return At(fill, "no space left for fill " + where + ": the other partitions at this level take " +
                            Mib(used, g_.sector_size) + " of " + Mib(hi - lo + 1, g_.sector_size));
      }
      Pass(idx, lo, logical, fill_size, &cursor);
      KA_RETURN_IF_ERROR(CheckFit(idx, lo, hi, logical, where, -1));
    }
    // Order and overlaps, in disk order.
    std::vector<size_t> order = idx;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return placed_[a].start < placed_[b].start; });
    for (size_t k = 1; k < order.size(); ++k) {
      const Placed& a = placed_[order[k - 1]];
      const Placed& b = placed_[order[k]];
      if (b.start <= a.start + a.size - 1)
        return At(order[k], "overlaps " + Where(l_.partitions[order[k - 1]], order[k - 1]) + " (it starts at sector " +
                                std::to_string(b.start) + ", inside sectors " + std::to_string(a.start) + "-" +
                                std::to_string(a.start + a.size - 1) + ")");
      if (logical && b.start < a.start + a.size + r_.grain)
        return At(order[k],
                  "a logical partition must start at least 1 MiB after the previous logical partition "
                  "ends (room for its extended boot record)");
    }
    for (size_t k = 0; logical && k < order.size(); ++k)
      if (order[k] != idx[k]) return At(idx[k], "logical partitions must be written in disk order");
    return Status::Ok();
  }

  const Layout& l_;
  const Geometry& g_;
  const UsableRange& r_;
  std::vector<uint64_t> fixed_;
  std::vector<uint64_t> starts_;
  std::vector<Placed> placed_;
};

}  // namespace

Result<uint64_t> SpecToSectors(const SizeSpec& spec, const Geometry& g) {
  const uint64_t ss = g.sector_size;
  const uint64_t per_mib = std::max<uint64_t>(1, kMiB / ss);
  U128 sectors = 0;
  switch (spec.unit) {
    case SizeSpec::Unit::kMiB:
      sectors = static_cast<U128>(spec.value) * per_mib;
      break;
    case SizeSpec::Unit::kGiB:
      sectors = static_cast<U128>(spec.value) * per_mib * 1024;
      break;
    case SizeSpec::Unit::kTiB:
      sectors = static_cast<U128>(spec.value) * per_mib * 1024 * 1024;
      break;
    case SizeSpec::Unit::kSectors:
      sectors = spec.value;
      break;
    case SizeSpec::Unit::kPercent: {
      uint64_t mib = static_cast<uint64_t>(static_cast<U128>(g.size_bytes) * spec.value / 100 / kMiB);
      if (mib == 0) return Status::Invalid(std::to_string(spec.value) + "% of this disk is less than 1 MiB");
      sectors = static_cast<U128>(mib) * per_mib;
      break;
    }
    case SizeSpec::Unit::kFill:
      return Status::Invalid("fill has no fixed size");
  }
  if (sectors > (static_cast<U128>(1) << 62)) return Status::Invalid("is too large");
  return static_cast<uint64_t>(sectors);
}

Result<UsableRange> UsableSectors(TableLabel label, const Geometry& g) {
  if (g.sector_size < 512 || (g.sector_size & (g.sector_size - 1)) != 0)
    return Status::Invalid("unsupported sector size " + std::to_string(g.sector_size));
  UsableRange r;
  r.grain = std::max<uint64_t>(1, kMiB / g.sector_size);
  const uint64_t total = g.sectors();
  if (label == TableLabel::kMbr) {
    r.first = r.grain;
    r.min_start = 1;
    if (total <= r.first + r.grain)
      return Status::Invalid("the disk (" + DiskText(g) + ") is too small for a partition table");
    r.last = std::min(total, kMbrLimit) - 1;
  } else {
    const uint64_t entries = (128 * 128 + g.sector_size - 1) / g.sector_size;
    r.first = AlignUp(2 + entries, r.grain);
    if (total < r.first + r.grain + 2 + entries)
      return Status::Invalid("the disk (" + DiskText(g) + ") is too small for a GPT");
    r.last = total - 2 - entries;
    r.min_start = r.first;
  }
  return r;
}

Result<Plan> PlanLayout(const Layout& layout, const Geometry& geometry) {
  KA_RETURN_IF_ERROR(CheckLayout(layout));
  auto numbers = PartitionNumbers(layout);
  if (!numbers.ok()) return numbers.status();
  auto range = UsableSectors(layout.label, geometry);
  if (!range.ok()) return range.status();
  Planner planner(layout, geometry, *range);
  auto placed = planner.Run();
  if (!placed.ok()) return placed.status();

  Plan plan{layout, geometry, *range, {}};
  plan.table.label = layout.label;
  plan.table.id = layout.id;
  plan.table.sector_size = geometry.sector_size;
  for (size_t i = 0; i < layout.partitions.size(); ++i) {
    const Partition& p = layout.partitions[i];
    auto type = SfdiskType(p.type, layout.label);
    if (!type.ok()) return Status::Invalid(Where(p, i) + ": " + type.status().message());
    TableEntry e;
    e.number = (*numbers)[i];
    e.start = (*placed)[i].start;
    e.size = (*placed)[i].size;
    e.type = *type;
    e.bootable = p.boot;
    e.name = p.name;
    e.uuid = p.partuuid;
    if (layout.label == TableLabel::kMbr && (e.start >= kMbrLimit || e.size >= kMbrLimit))
      return Status::Invalid(Where(p, i) +
                             ": an MBR cannot address sectors beyond 2^32 (2 TiB with 512-byte "
                             "sectors): use label gpt");
    plan.table.entries.push_back(e);
  }
  return plan;
}

}  // namespace ka::layout
