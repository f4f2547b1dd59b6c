// The sender's service for `ka status` and `ka exec` clients (docs/control.md):
// REQUEST messages on an authenticated "status" connection, answered with
// RESPONSE from the session's record (snapshot, node logs), and remote
// commands relayed to a node when the server allows them.
#pragma once

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>

#include "chain/channel.h"
#include "chain/messages.h"
#include "chain/sender.h"
#include "control/session_state.h"
#include "util/net.h"

namespace ka::control {

class StatusService {
 public:
  // `sender` relays the commands; both outlive the service.
  StatusService(SessionState& state, chain::Sender& sender, bool allow_exec)
      : state_(state), sender_(sender), allow_exec_(allow_exec) {}

  // A chain::StatusHandler: serves one client until it closes or `stop`.
  void Serve(std::unique_ptr<chain::SecureChannel> ch, const Endpoint& peer, const std::atomic<bool>& stop);

  // The RESPONSE body for one request from `peer`.
  nlohmann::json Answer(const chain::Request& req, const Endpoint& peer);

 private:
  nlohmann::json Exec(const chain::Request& req, const Endpoint& peer);

  SessionState& state_;
  chain::Sender& sender_;
  bool allow_exec_;
};

}  // namespace ka::control
