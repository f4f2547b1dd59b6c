#include "control/status_service.h"

#include "util/log.h"

namespace ka::control {

using Json = nlohmann::json;

// REQUEST messages answered with RESPONSE until the client closes. Read-only,
// except exec when the session relays it.
void StatusService::Serve(std::unique_ptr<chain::SecureChannel> ch, const Endpoint& peer,
                          const std::atomic<bool>& stop) {
  LogDebug("status client {} connected", peer.ToString());
  if (!ch->Send(chain::FrameType::kWelcome, chain::StatusWelcome{sender_.session_id(), allow_exec_}.ToJson(), 5).ok())
    return;
  while (!stop) {
    if (!WaitReadable(ch->fd(), 200)) continue;
    auto m = ch->Read(DeadlineIn(30));
    if (!m.ok()) {
      if (m.status().code() == Status::Code::kAuth || m.status().code() == Status::Code::kProtocol)
        LogWarn("status client {}: {}", peer.ToString(), m.status().ToString());
      return;
    }
    Json resp;
    if (m->type != chain::FrameType::kRequest) {
      resp = {{"ok", false}, {"error", "expected a REQUEST"}};
    } else if (auto req = chain::Request::Decode(m->body); !req.ok()) {
      resp = {{"ok", false}, {"error", req.status().message()}};
    } else {
      resp = Answer(req.value(), peer);
    }
    if (!ch->Send(chain::FrameType::kResponse, resp, 10).ok()) return;
  }
}

Json StatusService::Answer(const chain::Request& req, const Endpoint& peer) {
  if (req.op == "snapshot") return {{"ok", true}, {"snapshot", state_.Snapshot()}};
  if (req.op == "log") {
    uint64_t next = 0;
    auto lines = state_.Log(req.node, req.from, 2000, &next);
    if (!lines.ok()) return {{"ok", false}, {"error", lines.status().message()}};
    return {{"ok", true}, {"lines", lines.value()}, {"next", next}};
  }
  return Exec(req, peer);
}

Json StatusService::Exec(const chain::Request& req, const Endpoint& peer) {
  const std::string& node = req.node;
  std::string who = peer.Host();
  if (!allow_exec_) {
    LogWarn("REFUSED remote command from {} for {}: {} (this server was not started with --allow-exec)", who, node,
            req.command);
    if (state_.HasNode(node)) state_.NodeNote(node, "refused remote command from " + who + ": " + req.command);
    return {{"ok", false}, {"error", "remote commands are disabled on this server (start it with --allow-exec)"}};
  }
  auto r = sender_.RelayExec(node, chain::Exec{0, req.command, who, req.nonce, req.signature}, 90, [&] {
    LogWarn("remote command from {} for {}: {}", who, node, req.command);
    state_.NodeNote(node, "remote command from " + who + ": " + req.command);
  });
  if (!r.ok()) return {{"ok", false}, {"error", r.status().message()}};
  state_.NodeNote(node, "remote command from " + who + " exited with status " + std::to_string(r->exit));
  return {{"ok", r->exit >= 0},
          {"exit", r->exit},
          {"output", r->output},
          {"error", r->exit < 0 ? (r->output.empty() ? std::string("refused by the node") : r->output) : ""}};
}

}  // namespace ka::control
