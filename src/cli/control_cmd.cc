#include "cli/control_cmd.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "control/status_table.h"
#include "util/log.h"

namespace ka::cli {

namespace {
void AddClientOptions(CLI::App* c, control::ClientOptions& o) {
  c->add_option("--server", o.server, "The server (HOST[:PORT]) of the session; default: find it by broadcast");
  c->add_option("-s,--session", o.session, "Session name (for discovery and the handshake)")->capture_default_str();
  c->add_option("--secret-file", o.secret_file, "The session's secret file")->check(CLI::ExistingFile);
  c->add_option("--port", o.port, "Server TCP port used with --server when HOST has no :PORT")->capture_default_str();
  c->add_option("--discovery-port", o.discovery_port, "UDP port of the discovery broadcast")->capture_default_str();
  c->add_option("--broadcast", o.broadcast, "Send discovery to this IPv4 address (repeatable)");
}
}  // namespace

ControlCommands::ControlCommands(CLI::App& app) {
  status_ = app.add_subcommand("status", "Show every node of a running session, or the live log of one node");
  AddClientOptions(status_, co_);
  status_->add_option("node", node_, "Show this node's log instead of the table");
  status_->add_flag("-f,--follow", follow_, "Keep printing (the table every 2 s, or new log lines) until the session ends");
  status_->add_flag("--json", json_, "Print the session snapshot as JSON");
  exec_ = app.add_subcommand("exec", "Run a command on a node (the server must run with --allow-exec)");
  AddClientOptions(exec_, co_);
  exec_->add_option("node", node_, "The node")->required();
  exec_->add_option("command", command_, "The command and its arguments, after --")->required();
}

bool ControlCommands::parsed() const { return status_->parsed() || exec_->parsed(); }

int ControlCommands::Run(bool verbose) {
  InitLogging(status_->parsed() ? "status" : "exec", verbose);
  return status_->parsed() ? RunStatus() : RunExec();
}

int ControlCommands::RunStatus() {
  auto c = control::StatusClient::Connect(co_);
  if (!c.ok()) {
    LogError("{}", c.status().ToString());
    return 1;
  }
  uint64_t from = 0;
  for (;;) {
    auto snap = c->Request({{"op", "snapshot"}});
    if (!snap.ok()) {
      if (follow_ && from > 0) return 0;  // the session ended
      LogError("{}", snap.status().ToString());
      return 1;
    }
    const auto& s = (*snap)["snapshot"];
    if (!node_.empty()) {
      auto r = c->Request({{"op", "log"}, {"node", node_}, {"from", from}});
      if (!r.ok()) {
        LogError("{}", r.status().ToString());
        return 1;
      }
      for (const auto& line : (*r)["lines"]) std::printf("%s\n", line.get<std::string>().c_str());
      from = (*r)["next"].get<uint64_t>();
      if (from == 0) from = 1;  // seen the (empty) start
    } else if (json_) {
      std::printf("%s\n", s.dump(2).c_str());
    } else {
      std::printf("%s", control::RenderStatusTable(s).c_str());
      from = 1;
    }
    std::fflush(stdout);
    if (!follow_ || s.value("phase", "") == "done") return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(node_.empty() ? 2000 : 500));
  }
}

int ControlCommands::RunExec() {
  std::string cmd;
  for (const auto& w : command_) {
    if (!cmd.empty()) cmd += ' ';
    cmd += w;
  }
  auto c = control::StatusClient::Connect(co_);
  if (!c.ok()) {
    LogError("{}", c.status().ToString());
    return 1;
  }
  auto r = c->Request({{"op", "exec"}, {"node", node_}, {"command", cmd}});
  if (!r.ok()) {
    LogError("{}", r.status().ToString());
    return 1;
  }
  std::fputs((*r).value("output", "").c_str(), stdout);
  int code = (*r).value("exit", -1);
  if (code < 0) {
    LogError("{}: {}", node_, (*r).value("error", "refused"));
    return 1;
  }
  return code;
}

}  // namespace ka::cli
