#include "cli/clone_cmd.h"

#include <algorithm>

#include "cli/serve_config.h"
#include "cli/session_options.h"
#include "util/file.h"
#include "util/log.h"
#include "util/units.h"

namespace ka::cli {

CloneCommands::CloneCommands(CLI::App& app) {
  auto& g = so_.golden;
  auto& s = so_.send;
  serve_ = app.add_subcommand("serve", "Clone a golden disk, disk image or the running system onto N nodes (ka join)");
  // Read by ExpandConfig before parsing; declared here for --help.
  serve_->add_option("--config", config_,
                     "Read options from this file (the seed's replication.conf): one 'option = value' per line, "
                     "with the long option names (exclude = [\"/tmp\", \"/var/cache\"]); the command line wins");
  serve_->add_option("-n,--nodes", s.nodes, "Number of nodes to clone")->required()->check(CLI::Range(1, 10000));
  serve_->add_option("--source", g.source,
                     "The golden: a disk image file, a block device (/dev/sda), or / for the running system")
      ->required();
  serve_->add_option("-x,--exclude", g.exclude,
                     "Do not copy the contents of this golden directory (repeatable); the nodes get it empty, with "
                     "its owner and mode");
  serve_->add_option("-X,--exclude-disk", g.exclude_disk,
                     "Leave this disk of the golden out (repeatable; for --source / with several disks)");
  serve_->add_option("-p,--layout", g.layout_file,
                     "Partition the nodes with this KA desc instead of the golden's table (partitions grow with "
                     "'fill'); the golden's partitions keep their numbers")
      ->check(CLI::ExistingFile);
  auto* copy = serve_->add_flag("-m,--copy-mbr", g.copy_mbr, "Also copy the golden's 446 bytes of MBR boot code");
  serve_->add_option("-M,--mbr-file", g.mbr_file, "Write these 446 bytes of boot code on the nodes")
      ->check(CLI::ExistingFile)
      ->excludes(copy);
  serve_->add_option("-D,--raw-partition", g.raw_partitions,
                     "Copy this partition block for block (repeatable), for filesystems ka does not copy file by "
                     "file (ntfs, ...)");
  serve_->add_option("-d,--stagger", s.stagger,
                     "Seconds between the release (reboot/poweroff) of consecutive nodes at the end")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  serve_->add_option("--bootloader", g.bootloader,
                     "Bootloader installed on the nodes, from the golden system: auto (grub, else lilo, else none), "
                     "grub, lilo or none")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "grub", "lilo", "none"}));
  serve_
      ->add_option("--node-firmware", g.node_firmware,
                   "Firmware the nodes boot with: auto (each node's own), bios or uefi; a node refuses a golden "
                   "that cannot boot that way (BIOS-only onto UEFI or the reverse) before writing; any: no check")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "bios", "uefi", "any"}));
  serve_
      ->add_option("--efi-entry", g.efi_entry,
                   "UEFI nodes: the clone's boot entry (efibootmgr) goes first in BootOrder, last (the network "
                   "stays first; ka netboot's per-MAC choice decides), or none")
      ->capture_default_str()
      ->check(CLI::IsMember({"first", "last", "none"}));
  serve_->add_option("-r,--initramfs-options", g.initramfs_options,
                     "Extra options for the initramfs tool the golden uses (e.g. mkinitrd '--with=ata_piix')");
  serve_->add_option("--hostname-template", g.hostname_template,
                     "Hostname of each node: {index} ({index:03}), {name}, {mac}, {ip}; e.g. node-{index:02}")
      ->capture_default_str();
  serve_->add_option("--zstd-level", zstd_level_,
                     "zstd level of the stream, 1-19, or auto: measured on a sample of the golden against the link "
                     "(--link-mbit), the level that gets the stream through soonest")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto"}) | CLI::Range(1, 19));
  serve_->add_option("--zstd-threads", zstd_threads_,
                     "zstd compression threads: auto (one per CPU) or a number (0: compress in the streaming thread)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto"}) | CLI::Range(0, 256));
  serve_->add_option("--link-mbit", so_.stream.link_mbit,
                     "Speed of the nodes' links in Mbit/s, for --zstd-level auto (default: the fastest local "
                     "interface's, else 1000)")
      ->check(CLI::Range(1, 10000000));
  AddSenderSessionOptions(serve_, s, {"nodes", "--port"});  // -p is --layout here
  serve_->add_option("--prepare-timeout", s.prepare_timeout,
                     "Seconds the nodes have to partition and format before the stream starts")
      ->capture_default_str();
  serve_->add_option("--stage2", so_.stage2,
                     "Netbooted nodes: first send them this stage2 archive (ka netboot build's DIR/stage2.ka) "
                     "on session NAME-stage2")
      ->check(CLI::ExistingFile);
  serve_->add_option("--pxe-root", so_.pxe_root,
                     "Netbooted nodes: the TFTP root of ka netboot serve (DIR/tftp); each cloned node's next PXE "
                     "boot becomes local, a failed node's stays kamethod")
      ->check(CLI::ExistingDirectory);
  serve_->add_option("--buffer", buffer_, "Replay window / send buffer size")->capture_default_str();
  serve_->add_flag("--dry-run", so_.dry_run, "Inspect the golden and print the clone manifest; start nothing");

  auto& r = jo_.receive;
  join_ = app.add_subcommand("join", "Clone the golden served by `ka serve` onto this node's disk");
  join_->add_option("--disk", jo_.disk, "The disk to clone onto (ALL its data is replaced)")->required();
  AddReceiverSessionOptions(join_, r, {"server", "--port"});
  join_->add_option("--mac", r.mac,
                    "MAC to report to the server (its PXE boot switch; default: the MAC of the interface used)");
  join_->add_option("--buffer", join_buffer_, "Buffer / replay window size")->capture_default_str();
  join_->add_option("--hostname-template", jo_.hostname_template,
                    "This node's hostname, overriding the server's template: {index}, {name}, {mac}, {ip}");
  join_->add_flag("--dev-links", jo_.dev_links,
                  "Make the udev-style /dev/disk/by-* links of --disk and its partitions in this system's /dev "
                  "once they are made (for systems without udev, such as ka's netboot stage1)");
  join_->add_option("--then", jo_.then, "After a successful clone: exit, reboot or poweroff")
      ->capture_default_str()
      ->check(CLI::IsMember({"exit", "reboot", "poweroff"}));
}

Result<std::vector<std::string>> CloneCommands::ExpandConfig(int argc, char** argv) const {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto sub = std::find(args.begin(), args.end(), "serve");
  if (sub == args.end()) return args;
  size_t at = static_cast<size_t>(sub - args.begin()) + 1;
  std::string file;
  std::vector<std::string> rest;
  std::vector<const CLI::Option*> given;
  for (size_t i = at; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--config" && i + 1 < args.size()) {
      file = args[++i];
      continue;
    }
    if (a.rfind("--config=", 0) == 0) {
      file = a.substr(9);
      continue;
    }
    if (a.size() >= 2 && a[0] == '-') {
      std::string name = a.substr(0, a.find('='));
      if (const CLI::Option* o = serve_->get_option_no_throw(name)) given.push_back(o);
    }
    rest.push_back(a);
  }
  if (file.empty()) return args;
  auto text = ReadWholeFile(file);
  if (!text.ok()) return Status::Invalid("--config " + file + ": cannot read it");
  auto settings = ParseServeConfig(*text, file);
  if (!settings.ok()) return settings.status();
  std::vector<std::string> from_file;
  for (const ConfigSetting& s : *settings) {
    const std::string& key = s.key;
    std::string where = "--config " + file + " line " + std::to_string(s.line);
    const CLI::Option* o = serve_->get_option_no_throw("--" + key);
    if (!o || key == "config" || key == "help")
      return Status::Invalid(where + ": '" + key + "' is not an option of ka serve (see ka serve --help)");
    if (std::find(given.begin(), given.end(), o) != given.end()) continue;  // the command line wins
    if (o->get_expected_min() == 0) {  // a flag
      std::string v = s.values.empty() ? "" : s.values[0];
      if (v == "true" || v == "yes" || v == "1") from_file.push_back("--" + key);
      else if (v != "false" && v != "no" && v != "0") return Status::Invalid(where + ": " + key + " takes true or false");
      continue;
    }
    for (const auto& v : s.values) {
      from_file.push_back("--" + key);
      from_file.push_back(v);
    }
  }
  std::vector<std::string> out(args.begin(), args.begin() + static_cast<long>(at));
  out.insert(out.end(), from_file.begin(), from_file.end());
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

bool CloneCommands::parsed() const { return serve_->parsed() || join_->parsed(); }

int CloneCommands::Run(bool verbose) {
  if (serve_->parsed()) {
    auto b = ParseSize(buffer_);
    if (!b.ok()) {
      std::fprintf(stderr, "ka serve: --buffer: %s\n", b.status().message().c_str());
      return 2;
    }
    so_.send.buffer = b.value();
    so_.stream.zstd_level = zstd_level_ == "auto" ? 0 : std::stoi(zstd_level_);  // checked by CLI11
    so_.stream.zstd_threads = zstd_threads_ == "auto" ? -1 : std::stoi(zstd_threads_);
    InitLogging("serve", verbose);
    return RunServe(so_);
  }
  auto b = ParseSize(join_buffer_);
  if (!b.ok()) {
    std::fprintf(stderr, "ka join: --buffer: %s\n", b.status().message().c_str());
    return 2;
  }
  jo_.receive.buffer = b.value();
  InitLogging(jo_.receive.name.empty() ? "join" : jo_.receive.name, verbose);
  return node::RunJoin(jo_);
}

}  // namespace ka::cli
