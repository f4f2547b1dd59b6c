#include "control/status_client.h"

#include <arpa/inet.h>
#include <unistd.h>

#include "chain/auth.h"
#include "chain/discovery.h"
#include "chain/handshake.h"
#include "chain/message.h"
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
  auto w = chain::ClientHandshake(c.value().get(), secret.value(),
                                  chain::ClientHello{o.session, "status", nlohmann::json{{"name", host}}}, 10);
  if (!w.ok()) return w.status();
  StatusClient client;
  client.fd_ = std::move(c).value();
  return client;
}

Result<nlohmann::json> StatusClient::Request(const nlohmann::json& request) {
  KA_RETURN_IF_ERROR(chain::SendMessage(fd_.get(), chain::FrameType::kRequest, 0, request, DeadlineIn(10)));
  auto m = chain::ReadMessage(fd_.get(), DeadlineIn(120));
  if (!m.ok()) return m.status().Wrap("waiting for the server's answer");
  if (m->type != chain::FrameType::kResponse) return Status::Protocol("the server answered with a " + std::string(TypeName(m->type)));
  if (!m->body.value("ok", false) && m->body.contains("error") && !m->body.contains("exit"))
    return Status::Refused(m->body.value("error", "refused"));
  return m->body;
}

}  // namespace ka::control
