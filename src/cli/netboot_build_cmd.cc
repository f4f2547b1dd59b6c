#include "cli/netboot_build_cmd.h"

#include <cstdio>

#include "netboot/netboot_build.h"
#include "os/env.h"
#include "util/log.h"

namespace ka::cli {

NetbootBuildCommand::NetbootBuildCommand(CLI::App& netboot) {
  cmd_ = netboot.add_subcommand("build", "Build the network-boot files (loaders, kernel, stage1, stage2) from Debian packages");
  cmd_->add_option("-o,--output", output_, "Directory to create (DIR/tftp/..., DIR/stage2.ka, DIR/build.json)")->required();
  cmd_->add_option("--cache", cache_, "Where the kernel .deb is downloaded and reused")->capture_default_str();
  cmd_->add_option("--kernel-deb", kernel_deb_, "Use this linux-image-*.deb (offline build)");
  cmd_->add_option("--ka", ka_, "ka binary to put in stage1 (default: this one)");
  cmd_->add_option("--extra-module", extra_modules_, "Another kernel module for stage1 (repeatable)")
      ->allow_extra_args(false);
  cmd_->add_flag("--force", force_, "Replace DIR if it is not empty");
  cmd_->add_flag("--secure-boot", secure_boot_,
                 "UEFI machines boot shim and Debian's signed GRUB (packages shim-signed, grub-efi-amd64-signed) "
                 "instead of iPXE, so Secure Boot machines boot too; the stage1 kernel must be signed");
}

bool NetbootBuildCommand::parsed() const { return cmd_->parsed(); }

int NetbootBuildCommand::Run(bool verbose) {
  InitLogging("netboot-build", verbose);
  netboot::BuildOptions o;
  o.output = output_;
  o.cache_dir = cache_;
  o.kernel_deb = kernel_deb_;
  o.ka_binary = ka_;
  o.extra_modules = extra_modules_;
  o.force = force_;
  o.secure_boot = secure_boot_;
  auto epoch = netboot::SourceDateEpoch();
  if (!epoch.ok()) {
    std::fprintf(stderr, "ka netboot build: %s\n", epoch.status().message().c_str());
    return 2;
  }
  o.mtime = *epoch;
  os::Env& runner = os::DefaultEnv();
  auto r = netboot::BuildNetboot(runner, o);
  if (!r.ok()) {
    std::fprintf(stderr, "ka netboot build: %s\n", r.status().message().c_str());
    return r.status().code() == Status::Code::kInvalid ? 2 : 1;
  }
  std::printf("%s: kernel %s, stage1 %.1f MiB (%zu modules), stage2 %.1f MiB\n", output_.c_str(),
              r->kernel_version.c_str(), static_cast<double>(r->stage1_bytes) / (1 << 20), r->modules,
              static_cast<double>(r->stage2_bytes) / (1 << 20));
  return 0;
}

}  // namespace ka::cli
