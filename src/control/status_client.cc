#include "control/status_client.h"

#include <arpa/inet.h>
#include <unistd.h>

#include "chain/auth.h"
#include "chain/discovery.h"
#include "chain/handshake.h"
#include "chain/messages.h"
#include "util/net.h"

namespace ka::control {

Result<StatusClient> StatusClient::Connect(const ClientOptions& o) {
  chain::InitCrypto();
  auto secret = chain::LoadSecretOrWarn(o.secret_file, "the server cannot tell who asks, and may refuse");
  if (!secret.ok()) return secret.status();
  Endpoint server;
  if (!o.server.empty()) {
    auto e = ResolveEndpoint(o.server, o.port);
    if (!e.ok()) return e.status();
    server = e.value();
  } else {
    std::vector<uint32_t> targets;
    for (const auto& b : o.broadcast) {
      in_addr a{};
      if (inet_pton(AF_INET, b.c_str(), &a) != 1) return Status::Invalid("bad --broadcast address '" + b + "'");
      targets.push_back(a.s_addr);
    }
    auto e = chain::DiscoverSender(o.session, o.discovery_port, o.wait, targets);
    if (!e.ok()) return e.status().Wrap("finding the server of session '" + o.session + "' (or give --server)");
    server = e.value();
  }
  auto c = ConnectTcp(server, DeadlineIn(10));
  if (!c.ok()) return c.status().Wrap("connecting to the server " + server.ToString());
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  chain::Hello hello;
  hello.session = o.session;
  hello.role = "status";
  hello.name = host;
  auto w = chain::ClientHandshake(std::move(c).value(), secret.value(), hello, 10, chain::kMaxResponsePayload);
  if (!w.ok()) return w.status();
  auto welcome = chain::StatusWelcome::Decode(w->welcome);
  if (!welcome.ok()) return welcome.status().Wrap("the server's WELCOME");
  StatusClient client;
  client.channel_ = std::move(w->channel);
  client.session_id_ = welcome->session_id;
  client.exec_ = welcome->exec;
  return client;
}

Result<nlohmann::json> StatusClient::Request(const nlohmann::json& request) {
  KA_RETURN_IF_ERROR(channel_->Send(chain::FrameType::kRequest, request, 10));
  auto m = channel_->Read(DeadlineIn(120));
  if (!m.ok()) return m.status().Wrap("waiting for the server's answer");
  if (m->type != chain::FrameType::kResponse)
    return Status::Protocol("the server answered with a " + std::string(TypeName(m->type)));
  const auto& b = m->body;
  auto ok = b.find("ok");
  if (ok == b.end() || !ok->is_boolean()) return Status::Protocol("the server's RESPONSE has no 'ok'");
  if (!ok->get<bool>() && !b.contains("exit")) {
    auto e = b.find("error");
    return Status::Refused(e != b.end() && e->is_string() ? e->get<std::string>() : std::string("refused"));
  }
  return b;
}

}  // namespace ka::control
