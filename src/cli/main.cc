// ka: clone one golden Linux machine onto many over a pipelined TCP chain.
// This file only parses the command line; each subcommand lives in its room.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "chain/receiver.h"
#include "chain/sender.h"
#include "cli/clone_cmd.h"
#include "cli/control_cmd.h"
#include "cli/dashboard_cmd.h"
#include "cli/key_cmd.h"
#include "cli/layout_cmd.h"
#include "cli/manual_cmd.h"
#include "cli/netboot_cmd.h"
#include "cli/session_options.h"
#include "cli/sim_cmd.h"
#include "cli/tree_cmd.h"
#include "control/send_session.h"
#include "util/log.h"
#include "util/units.h"

namespace {

// CLI11 validator for sizes such as 128MiB.
struct SizeValidator : public CLI::Validator {
  SizeValidator() {
    name_ = "SIZE";
    func_ = [](const std::string& s) {
      auto r = ka::ParseSize(s);
      return r.ok() ? std::string() : r.status().message();
    };
  }
};

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  CLI::App app{"ka: duplicate a golden machine onto many nodes over a pipelined TCP chain", "ka"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(KA_VERSION));
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "More detailed logs");

  // ka send
  ka::control::SendSessionOptions so;
  std::string send_buffer = "128MiB", send_chunk = "256KiB";
  auto* send = app.add_subcommand("send", "Stream a file, stdin or a command's output to N receivers through a chain");
  send->add_option("-n,--nodes", so.nodes, "Number of receivers to wait for")->required()->check(CLI::Range(1, 10000));
  ka::cli::AddSenderSessionOptions(send, so, {"receivers", "-p,--port"});
  send->add_option("--buffer", send_buffer, "Replay window / send buffer size")->check(SizeValidator())->capture_default_str();
  send->add_option("--chunk-size", send_chunk, "Payload bytes per data frame")->check(SizeValidator())->capture_default_str();
  auto* src_exec = send->add_option("-e,--exec", so.exec, "Stream the standard output of this shell command");
  auto* src_path = send->add_option("source", so.source_path, "File or block device to stream, or - for stdin");
  src_exec->excludes(src_path);
  send->callback([&] {
    if (so.exec.empty() && so.source_path.empty())
      throw CLI::ValidationError("source", "give a PATH, - (stdin) or --exec 'CMD'");
  });

  // ka receive
  ka::chain::ReceiveOptions ro;
  std::string recv_buffer = "128MiB";
  std::string recv_path;
  auto* recv = app.add_subcommand("receive", "Join a session, relay the stream to the next node and write it locally");
  ka::cli::AddReceiverSessionOptions(recv, ro, {"sender", "-p,--port"});
  recv->get_option("--wait")->check(CLI::Range(1, 1000000));
  recv->get_option("--sender-timeout")->check(CLI::Range(1.0, 3600.0));
  recv->add_option("--buffer", recv_buffer, "Buffer / replay window size")->check(SizeValidator())->capture_default_str();
  recv->add_flag("!--no-splice", ro.splice, "Relay by copying instead of splice/tee (for comparison)");
  auto* r_out = recv->add_option("-o,--output", ro.output, "Write the stream to this file or device");
  auto* r_exec = recv->add_option("-e,--exec", ro.exec, "Feed the stream to this shell command's stdin");
  auto* r_pos = recv->add_option("target", recv_path, "- to write the stream to stdout");
  r_out->excludes(r_exec)->excludes(r_pos);
  r_exec->excludes(r_pos);
  recv->callback([&] {
    if (!recv_path.empty()) {
      if (recv_path != "-") throw CLI::ValidationError("target", "use --output PATH, - (stdout) or --exec 'CMD'");
      ro.output = "-";
    }
    if (ro.output.empty() && ro.exec.empty())
      throw CLI::ValidationError("output", "give --output PATH, - (stdout) or --exec 'CMD'");
  });

  ka::cli::LayoutCommands layout_cmds(app);  // ka describe, ka partition
  ka::cli::CloneCommands clone_cmds(app);    // ka serve, ka join
  ka::cli::TreeCommands tree_cmds(app);      // ka tree-archive, tree-extract, tree-manifest
  ka::cli::ControlCommands control_cmds(app);  // ka status, ka exec
  ka::cli::DashboardCommands dashboard_cmds(app);  // ka dashboard-demo (hidden)
  ka::cli::NetbootCommands netboot_cmds(app);      // ka netboot build|serve|stage1
  ka::cli::KeyCommands key_cmds(app);              // ka key new|show, ka secret new
  ka::cli::SimCommand sim_cmd(app);                // ka sim
  ka::cli::ManualCommand manual_cmd(app);          // ka manual (hidden): man pages, completion

  // `ka serve --config FILE`: the file's options join the command line first.
  auto args = clone_cmds.ExpandConfig(argc, argv);
  if (!args.ok()) {
    std::fprintf(stderr, "ka serve: %s\n", args.status().message().c_str());
    return 2;
  }
  std::vector<std::string> reversed(args->rbegin(), args->rend());  // CLI11 takes them last first
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    if (rc != 0 && sim_cmd.parsed()) return 2;  // `ka sim`'s contract: bad options exit 2
    return rc;
  }
  if (layout_cmds.parsed()) return layout_cmds.Run(verbose);
  if (clone_cmds.parsed()) return clone_cmds.Run(verbose);
  if (tree_cmds.parsed()) return tree_cmds.Run(verbose);
  if (control_cmds.parsed()) return control_cmds.Run(verbose);
  if (dashboard_cmds.parsed()) return dashboard_cmds.Run(verbose);
  if (netboot_cmds.parsed()) return netboot_cmds.Run(verbose);
  if (key_cmds.parsed()) return key_cmds.Run(verbose);
  if (sim_cmd.parsed()) return sim_cmd.Run();
  if (manual_cmd.parsed()) return manual_cmd.Run(app, KA_VERSION, ka::os::DefaultEnv());

  if (send->parsed()) {
    so.buffer = ka::ParseSize(send_buffer).value();
    so.chunk = static_cast<uint32_t>(ka::ParseSize(send_chunk).value());
    if (so.chunk < 4096 || so.chunk > (16u << 20)) {
      std::fprintf(stderr, "ka send: --chunk-size must be between 4KiB and 16MiB\n");
      return 2;
    }
    ka::InitLogging("send", verbose);
    return ka::control::RunSendSession(so);
  }
  if (recv->parsed()) {
    ro.buffer = ka::ParseSize(recv_buffer).value();
    ka::InitLogging(ro.name.empty() ? "receive" : ro.name, verbose);
    return ka::chain::RunReceive(ro);
  }
  return 2;
}
