// The connection handshake shared by control and data connections:
//   client HELLO -> server CHALLENGE -> client AUTH -> server WELCOME | REFUSE
// Both sides prove the secret (when one is configured); either side refuses a
// peer that cannot. See docs/protocol.md, "Handshake".
#pragma once

#include <functional>
#include <string>

#include "chain/auth.h"
#include "chain/message.h"

namespace ka::chain {

struct ClientHello {
  std::string session;  // session name
  std::string role;     // "control" or "data"
  Json extra;           // role-specific fields merged into HELLO
};

// Runs the client side. On success returns the server's WELCOME body; on
// REFUSE returns a Refused/Auth status carrying the server's reason.
Result<Json> ClientHandshake(int fd, const Secret& secret, const ClientHello& hello, double timeout_s);

// Server side, up to (not including) WELCOME. `check_hello` runs once the
// peer is authenticated and may refuse it (session full, unknown node...):
// its Status message is sent in REFUSE. Returns the verified HELLO body; the caller then sends
// WELCOME or REFUSE. Every refusal is also sent to the peer.
Result<Json> ServerHandshake(int fd, const Secret& secret, const std::string& session,
                             const std::function<Status(const Json& hello)>& check_hello, double timeout_s);

// Sends REFUSE {reason}; best effort.
void SendRefuse(int fd, const std::string& reason);

}  // namespace ka::chain
