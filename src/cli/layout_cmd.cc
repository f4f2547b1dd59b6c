#include "cli/layout_cmd.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "layout/apply.h"
#include "layout/desc_parser.h"
#include "layout/desc_writer.h"
#include "layout/describe.h"
#include "layout/layout_json.h"
#include "layout/partitions.h"
#include "os/env.h"
#include "os/part_name.h"
#include "util/log.h"

namespace ka::cli {
namespace {

using layout::TableEntry;

int ExitFor(const Status& s) { return s.code() == Status::Code::kInvalid ? 2 : 1; }

int Fail(const char* cmd, const Status& s) {
  std::fprintf(stderr, "ka %s: %s\n", cmd, s.message().c_str());
  return ExitFor(s);
}

Result<std::string> ReadDescFile(const std::string& path) {
  std::ostringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream f(path);
  if (!f) return Status::Invalid("cannot read desc file " + path + ": " + ErrnoMessage("open", errno));
  text << f.rdbuf();
  return text.str();
}

std::string Mib(uint64_t bytes) {
  char b[40];
  if (bytes % (1ull << 20) == 0) {
    std::snprintf(b, sizeof b, "%llu MiB", static_cast<unsigned long long>(bytes >> 20));
  } else {
    std::snprintf(b, sizeof b, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  }
  return b;
}

// The plan as a table: one line per partition; lines starting with '#' are comments.
void PrintPlan(const layout::ApplyResult& r, bool written) {
  const auto& g = r.disk.geometry;
  std::printf("# %s: %llu bytes, %llu-byte sectors, %s table %s\n", r.disk.path.c_str(),
              static_cast<unsigned long long>(g.size_bytes), static_cast<unsigned long long>(g.sector_size),
              layout::LabelName(r.plan.table.label), written ? "written" : "planned (nothing written)");
  std::printf("# %-4s %-22s %-12s %-12s %-12s %-10s %-5s %s\n", "num", "device", "start", "sectors", "size", "type",
              "boot", "line");
  for (size_t i = 0; i < r.plan.table.entries.size(); ++i) {
    const TableEntry& e = r.plan.table.entries[i];
    const layout::Partition& p = r.plan.layout.partitions[i];
    std::string dev = "-";
    if (written) {
      for (const auto& d : r.devices)
        if (d.number == e.number) dev = d.path;
    } else if (r.disk.block_device && !layout::IsExtended(p.type)) {
      dev = os::PartitionNodeName(r.disk.path, e.number);
    }
    std::printf("%-6d %-22s %-12llu %-12llu %-12s %-10s %-5s %d\n", e.number, dev.c_str(),
                static_cast<unsigned long long>(e.start), static_cast<unsigned long long>(e.size),
                Mib(e.size * g.sector_size).c_str(), layout::FormatPartType(p.type).c_str(), e.bootable ? "yes" : "-",
                p.line);
  }
}

}  // namespace

LayoutCommands::LayoutCommands(CLI::App& app) {
  describe_ = app.add_subcommand("describe", "Print the desc (layout) of a disk or disk image, with its filesystems");
  describe_->add_option("disk", disk_, "Disk device or disk image file")->required();
  describe_->add_flag("--json", json_, "Print JSON (table in sectors, desc fields and the desc text)");
  describe_->add_flag("--fill-last", fill_last_,
                      "Write 'fill' for the last partition of each level that reaches its end, so a larger disk "
                      "gives it the extra space (default: exact sizes)");
  describe_->add_flag("--no-fs", no_fs_, "Do not probe the partitions for filesystems (blkid)");
  describe_->add_flag("--new-ids", new_ids_,
                      "Leave out the disk id and the GPT partition UUIDs, so that disks partitioned from this desc "
                      "get new ones (default: keep them, as fstab or the boot loader may use them)");

  partition_ = app.add_subcommand(
      "partition", "Validate a desc and write it as the partition table of a disk (wipes the disk's table)");
  partition_->add_option("disk", disk_, "Disk device or disk image file to partition")->required();
  auto* layout_opt = partition_->add_option("-l,--layout", desc_path_, "Desc file to apply (- for stdin)");
  partition_->add_flag("-n,--dry-run", dry_run_, "Validate and print the plan; write nothing");
  partition_->add_flag("-y,--yes", yes_, "Really write the disk (required unless --dry-run)");
  partition_
      ->add_option("--expose", expose_,
                   "How the new partitions become block devices: kernel partition devices (kernel), offset "
                   "loop devices (loop), or kernel ones with loop devices as fallback (auto)")
      ->check(CLI::IsMember({"auto", "kernel", "loop"}))
      ->capture_default_str();
  auto* release_opt = partition_->add_flag(
      "--release", release_,
      "Undo the partition devices ka made for DISK, then exit: detach its offset loop devices and, on a loop "
      "device, drop the kernel partitions added with partx (they outlive losetup -d)");
  release_opt->excludes(layout_opt);
}

bool LayoutCommands::parsed() const { return describe_->parsed() || partition_->parsed(); }

int LayoutCommands::Run(bool verbose) {
  if (describe_->parsed()) {
    InitLogging("describe", verbose);
    return RunDescribe();
  }
  InitLogging("partition", verbose);
  return release_ ? RunRelease() : RunPartition();
}

int LayoutCommands::RunDescribe() {
  os::Env& ops = os::DefaultEnv();
  layout::DescribeOptions options;
  options.table.fill_last = fill_last_;
  options.table.keep_ids = !new_ids_;
  options.probe_filesystems = !no_fs_;
  auto d = layout::DescribeDisk(ops, disk_, options);
  if (!d.ok()) return Fail("describe", d.status());
  if (json_) {
    std::fputs(layout::DescriptionJson(*d).c_str(), stdout);
  } else {
    std::printf("# ka describe %s: %llu bytes, %llu-byte sectors\n", d->disk.path.c_str(),
                static_cast<unsigned long long>(d->disk.geometry.size_bytes),
                static_cast<unsigned long long>(d->disk.geometry.sector_size));
    std::fputs(layout::WriteDesc(d->layout).c_str(), stdout);
  }
  return 0;
}

int LayoutCommands::RunPartition() {
  if (desc_path_.empty()) return Fail("partition", Status::Invalid("give the layout with --layout DESC (or --release)"));
  auto text = ReadDescFile(desc_path_);
  if (!text.ok()) return Fail("partition", text.status());
  const std::string where = desc_path_ == "-" ? "stdin" : desc_path_;
  auto parsed = layout::ParseDesc(*text);
  if (!parsed.ok()) {
    return Fail("partition",
                Status::Invalid(where + ": " + parsed.status().message() + " (nothing was written to " + disk_ + ")"));
  }
  layout::ApplyOptions options;
  options.dry_run = dry_run_ || !yes_;
  options.expose = expose_ == "kernel" ? layout::ExposeMode::kKernel
                   : expose_ == "loop" ? layout::ExposeMode::kLoop
                                       : layout::ExposeMode::kAuto;
  os::Env& ops = os::DefaultEnv();
  auto r = layout::ApplyLayout(ops, disk_, *parsed, options);
  if (!r.ok()) {
    Status s = r.status();
    if (s.code() == Status::Code::kInvalid) {
      // Layout errors name the desc file and line; disk errors name the disk already.
      std::string prefix = s.message().rfind("desc line ", 0) == 0 ? where + ": " : "";
      s = Status::Invalid(prefix + s.message() + " (nothing was written to " + disk_ + ")");
    }
    return Fail("partition", s);
  }
  PrintPlan(*r, !options.dry_run);
  if (options.dry_run) {
    std::printf("# sfdisk script:\n");
    std::istringstream script(r->script);
    std::string line;
    while (std::getline(script, line)) std::printf("#   %s\n", line.c_str());
    if (!dry_run_) {
      std::fprintf(stderr, "ka partition: not writing %s without --yes (the plan above is what would be written)\n",
                   r->disk.path.c_str());
      return 2;
    }
    return 0;
  }
  bool loops = false;
  for (const auto& d : r->devices) loops = loops || d.offset_loop;
  if (loops)
    LogInfo("partitions of {} are offset loop devices; 'ka partition --release {}' detaches them", r->disk.path,
            r->disk.path);
  return 0;
}

int LayoutCommands::RunRelease() {
  os::Env& ops = os::DefaultEnv();
  auto disk = ops.Inspect(disk_);
  if (!disk.ok()) return Fail("partition", disk.status());
  std::vector<std::string> users = ops.Users(*disk);
  if (!users.empty()) {
    std::string all;
    for (const auto& u : users) all += (all.empty() ? "" : "; ") + u;
    return Fail("partition", Status::Refused(disk->path + " is in use, not releasing its partitions: " + all));
  }
  auto detached = layout::ReleasePartitions(ops, *disk);
  if (!detached.ok()) return Fail("partition", detached.status());
  for (const auto& d : *detached) std::printf("detached %s\n", d.c_str());
  if (detached->empty()) std::printf("# no partition loop devices on %s\n", disk->path.c_str());
  return 0;
}

}  // namespace ka::cli
