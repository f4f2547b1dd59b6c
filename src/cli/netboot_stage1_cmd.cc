#include "cli/netboot_stage1_cmd.h"

#include <cstdio>
#include <iostream>

#include "netboot/stage1_agent.h"
#include "os/env.h"
#include "os/mount.h"
#include "util/log.h"

namespace ka::cli {

namespace {
std::string cmdline_override;
}

NetbootStage1Command::NetbootStage1Command(CLI::App& netboot) {
  cmd_ = netboot.add_subcommand(
      "stage1",
      "The node agent of the stage1 initramfs: fetch stage2 through the chain, clone with `ka join`, "
      "ka.tries tries with a countdown, then ka.fail (settings from the kernel command line, docs/netboot.md)");
  cmd_->add_option("--cmdline", cmdline_override, "Settings to use instead of /proc/cmdline");
}

bool NetbootStage1Command::parsed() const { return cmd_->parsed(); }

int NetbootStage1Command::Run(bool verbose) {
  InitLogging("stage1", verbose);
  if (!os::RootIsInitramfs()) {
    std::fprintf(stderr,
                 "ka netboot stage1: / is not an initramfs: this agent clones the machine's disk and reboots it, "
                 "so it only runs inside the stage1 initramfs that `ka netboot build` makes\n");
    return 2;
  }
  std::string text = cmdline_override;
  if (text.empty()) {
    auto cmdline = os::DefaultEnv().ReadFile("/proc/cmdline");
    if (!cmdline.ok()) {
      std::fprintf(stderr, "ka netboot stage1: %s\n", cmdline.status().ToString().c_str());
      return 2;
    }
    text = cmdline.value();
  }
  auto params = netboot::ParseStage1Params(text);
  if (!params.ok()) {
    std::fprintf(stderr, "ka netboot stage1: kernel command line: %s (fix the pxelinux kamethod label)\n",
                 params.status().message().c_str());
    return 2;
  }
  netboot::Stage1Config config;
  config.params = params.value();
  return netboot::RunStage1(config, os::DefaultEnv(), std::cout);
}

}  // namespace ka::cli
