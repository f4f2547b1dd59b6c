// The connection handshake shared by every TCP connection (docs/protocol.md §3):
//   client HELLO -> server CHALLENGE -> client AUTH -> server sealed WELCOME | REFUSE
// HELLO and CHALLENGE travel in clear and carry nothing secret; the server
// proves nothing and reveals nothing until the client has proven the secret
// with AUTH (a MAC over the transcript under a key derived from the secret).
// The server's first sealed frame proves the secret back: a client that
// cannot open it is talking to an impostor. After that both sides hold a
// SecureChannel.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "chain/auth.h"
#include "chain/channel.h"
#include "chain/messages.h"

namespace ka::chain {

// The start of the message of a Refused status that an authenticated server
// sent (a session full or started, a wrong session name...): final, unlike a
// refusal before authentication, which anyone on the path could forge.
inline constexpr const char* kSealedRefusal = "the server refused us: ";

struct ClientResult {
  Json welcome;                            // the server's sealed WELCOME body
  std::unique_ptr<SecureChannel> channel;  // the connection, sealed from now on
};

// Runs the client side. `hello` carries the session, role and role fields;
// version, nonce and auth are filled in here. On REFUSE returns a Refused (or,
// about the secret, Auth) status with the server's reason.
Result<ClientResult> ClientHandshake(UniqueFd fd, const Secret& secret, Hello hello, double timeout_s,
                                     uint32_t max_read = kMaxControlPayload);

struct ServerLimits {
  double hello_timeout = 2;  // the first byte to the end of HELLO
  double timeout = 5;        // the whole handshake
};

struct ServerResult {
  Hello hello;  // decoded and authenticated
  std::unique_ptr<SecureChannel> channel;
};

// Server side, up to (not including) WELCOME: the caller checks the HELLO
// (session name, role fields: its refusals may name the session now) and
// answers through the channel with WELCOME, or with SendRefuse. Failures
// before authentication answer with at most a plain REFUSE that says nothing
// about the session.
Result<ServerResult> ServerHandshake(UniqueFd fd, const Secret& secret, const ServerLimits& limits);

// A sealed REFUSE to an authenticated client; best effort.
void SendRefuse(SecureChannel& channel, const std::string& reason);

}  // namespace ka::chain
