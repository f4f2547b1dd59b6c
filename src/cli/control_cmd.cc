#include "cli/control_cmd.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "chain/auth.h"
#include "chain/fields.h"
#include "chain/messages.h"
#include "control/status_table.h"
#include "crypto/key_file.h"
#include "util/log.h"
#include "util/units.h"

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
  exec_ = app.add_subcommand("exec",
                             "Run a command on a node: signed with your operator key; the server must run with "
                             "--allow-exec and the node with --allow-remote-commands YOUR_PUBLIC_KEY");
  AddClientOptions(exec_, co_);
  exec_->add_option("--operator-key", operator_key_, "Your operator secret key file (ka key new DIR: DIR/ka.key)")
      ->required()
      ->check(CLI::ExistingFile);
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
    const nlohmann::json* sp = chain::Fields(*snap, "RESPONSE").Find("snapshot");
    if (!sp || !sp->is_object()) {
      LogError("the server's answer holds no session snapshot");
      return 1;
    }
    const auto& s = *sp;
    if (!node_.empty()) {
      auto r = c->Request({{"op", "log"}, {"node", node_}, {"from", from}});
      if (!r.ok()) {
        LogError("{}", r.status().ToString());
        return 1;
      }
      std::vector<std::string> lines;
      uint64_t next = 0;
      chain::Fields f(*r, "RESPONSE");
      f.StrList("lines", &lines, 100000, 1 << 20).U64("next", &next);
      if (!f.ok()) {
        LogError("{}", f.status().ToString());
        return 1;
      }
      for (const auto& line : lines) std::printf("%s\n", line.c_str());
      from = next;
      if (from == 0) from = 1;  // seen the (empty) start
    } else if (json_) {
      std::printf("%s\n", s.dump(2).c_str());
    } else {
      std::printf("%s", control::RenderStatusTable(s).c_str());
      from = 1;
    }
    std::fflush(stdout);
    auto phase = s.find("phase");
    if (!follow_ || (phase != s.end() && phase->is_string() && phase->get<std::string>() == "done")) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(node_.empty() ? 2000 : 500));
  }
}

int ControlCommands::RunExec() {
  std::string cmd;
  for (const auto& w : command_) {
    if (!cmd.empty()) cmd += ' ';
    cmd += w;
  }
  auto key = crypto::LoadSigningKey(operator_key_);
  if (!key.ok()) {
    LogError("--operator-key: {}", key.status().ToString());
    return 2;
  }
  auto c = control::StatusClient::Connect(co_);
  if (!c.ok()) {
    LogError("{}", c.status().ToString());
    return 1;
  }
  // The node checks this signature: the server relays it but cannot make one.
  chain::Request req;
  req.op = "exec";
  req.node = node_;
  req.command = cmd;
  req.nonce = chain::RandomHex(16);
  std::string sig = crypto::Sign(key.value(), chain::ExecSignedMessage(c->session_id(), node_, cmd, req.nonce));
  req.signature = ToHex(sig.data(), sig.size());
  auto r = c->Request(req.ToJson());
  if (!r.ok()) {
    LogError("{}", r.status().ToString());
    return 1;
  }
  int64_t code = -1;
  std::string output, error;
  chain::Fields f(*r, "RESPONSE");
  f.I64("exit", &code, -1, 65535).OptStr("output", &output, 1 << 20).OptStr("error", &error, 1 << 16);
  if (!f.ok()) {
    LogError("{}", f.status().ToString());
    return 1;
  }
  std::fputs(output.c_str(), stdout);
  if (code < 0) {
    LogError("{}: {}", node_, error.empty() ? std::string("refused") : error);
    return 1;
  }
  return static_cast<int>(code);
}

}  // namespace ka::cli
