// The client side of the server's status service, used by `ka status` and
// `ka exec`: an authenticated connection (role "status", the session's secret)
// carrying sealed REQUEST/RESPONSE messages. docs/control.md.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chain/channel.h"
#include "util/status.h"

namespace ka::control {

struct ClientOptions {
  std::string server;   // host[:port]; empty: find the session by broadcast
  std::string session = "ka";
  std::string secret_file;
  uint16_t port = 30765;
  uint16_t discovery_port = 30764;
  int wait = 5;  // discovery tries
  std::vector<std::string> broadcast;
};

class StatusClient {
 public:
  static Result<StatusClient> Connect(const ClientOptions& options);
  // One request; a RESPONSE with "ok": false becomes an error with its "error"
  // (except exec answers, which carry the command's exit status).
  Result<nlohmann::json> Request(const nlohmann::json& request);
  uint64_t session_id() const { return session_id_; }
  bool exec_relayed() const { return exec_; }

 private:
  StatusClient() = default;
  std::unique_ptr<chain::SecureChannel> channel_;
  uint64_t session_id_ = 0;
  bool exec_ = false;
};

}  // namespace ka::control
