#include "chain/handshake.h"

namespace ka::chain {

namespace {
constexpr const char* kClientLabel = "ka-client";
constexpr const char* kServerLabel = "ka-server";

Status RefusalStatus(const Message& m) {
  auto reason = StringField(m.body, "reason", 4096);
  std::string text = reason.ok() ? reason.value() : "no reason given";
  if (BoolField(m.body, "auth", false)) return Status::Auth("the sender refused us: " + text);
  return Status::Refused("the peer refused us: " + text);
}
}  // namespace

void SendRefuse(int fd, const std::string& reason) {
  (void)SendMessage(fd, FrameType::kRefuse, 0, Json{{"reason", reason}}, DeadlineIn(2));
}

static void SendAuthRefuse(int fd, const std::string& reason) {
  (void)SendMessage(fd, FrameType::kRefuse, 0, Json{{"reason", reason}, {"auth", true}}, DeadlineIn(2));
}

Result<Json> ClientHandshake(int fd, const Secret& secret, const ClientHello& hello, double timeout_s) {
  Deadline deadline = DeadlineIn(timeout_s);
  std::string nonce_c = NewNonce();
  Json h = hello.extra.is_object() ? hello.extra : Json::object();
  h["version"] = kProtocolVersion;
  h["session"] = hello.session;
  h["role"] = hello.role;
  h["nonce"] = nonce_c;
  h["auth"] = secret.enabled();
  KA_RETURN_IF_ERROR(SendMessage(fd, FrameType::kHello, 0, h, deadline));

  auto ch = ReadMessage(fd, deadline);
  if (!ch.ok()) return ch.status().Wrap("waiting for the handshake challenge");
  if (ch->type == FrameType::kRefuse) return RefusalStatus(*ch);
  if (ch->type != FrameType::kChallenge)
    return Status::Protocol(std::string("expected CHALLENGE, got ") + TypeName(ch->type));
  auto nonce_s = StringField(ch->body, "nonce", 128);
  if (!nonce_s.ok()) return nonce_s.status();
  bool server_auth = BoolField(ch->body, "auth", false);

  Json auth = Json::object();
  if (server_auth && !secret.enabled()) {
    auth["proof"] = "";
    (void)SendMessage(fd, FrameType::kAuth, 0, auth, deadline);
    return Status::Auth("the sender of session '" + hello.session +
                        "' requires a shared secret; pass the same file with --secret-file");
  }
  if (!server_auth && secret.enabled()) {
    SendRefuse(fd, "this node has a secret but the peer runs without authentication");
    return Status::Auth("the peer of session '" + hello.session +
                        "' runs WITHOUT authentication but this node was given a secret; refusing to trust it "
                        "(start the sender with the same --secret-file)");
  }
  if (secret.enabled()) {
    auto proof_s = StringField(ch->body, "proof", 128);
    if (!proof_s.ok() || !secret.Verify(proof_s.value(), kServerLabel, hello.session, hello.role, nonce_c, nonce_s.value())) {
      SendAuthRefuse(fd, "the server's proof of the secret is wrong");
      return Status::Auth("the peer's proof of the secret is wrong: it holds a different secret (or is an impostor)");
    }
    auth["proof"] = secret.Prove(kClientLabel, hello.session, hello.role, nonce_c, nonce_s.value());
  }
  KA_RETURN_IF_ERROR(SendMessage(fd, FrameType::kAuth, 0, auth, deadline));

  auto w = ReadMessage(fd, deadline);
  if (!w.ok()) return w.status().Wrap("waiting for WELCOME");
  if (w->type == FrameType::kRefuse) return RefusalStatus(*w);
  if (w->type != FrameType::kWelcome) return Status::Protocol(std::string("expected WELCOME, got ") + TypeName(w->type));
  return std::move(w->body);
}

Result<Json> ServerHandshake(int fd, const Secret& secret, const std::string& session,
                             const std::function<Status(const Json& hello)>& check_hello, double timeout_s) {
  Deadline deadline = DeadlineIn(timeout_s);
  auto hm = ReadMessage(fd, deadline);
  if (!hm.ok()) return hm.status().Wrap("reading HELLO");
  if (hm->type != FrameType::kHello) {
    SendRefuse(fd, "expected HELLO");
    return Status::Protocol(std::string("expected HELLO, got ") + TypeName(hm->type));
  }
  const Json& hello = hm->body;
  auto version = U64Field(hello, "version");
  if (!version.ok() || version.value() != kProtocolVersion) {
    SendRefuse(fd, "unsupported protocol version (this peer speaks version " + std::to_string(kProtocolVersion) + ")");
    return Status::Protocol("peer speaks an unsupported protocol version");
  }
  auto their_session = StringField(hello, "session");
  auto role = StringField(hello, "role", 16);
  auto nonce_c = StringField(hello, "nonce", 128);
  for (const Status& s : {their_session.status(), role.status(), nonce_c.status()}) {
    if (!s.ok()) {
      SendRefuse(fd, "malformed HELLO: " + s.message());
      return s;
    }
  }
  if (their_session.value() != session) {
    SendRefuse(fd, "session '" + their_session.value() + "' is not served here (this is session '" + session + "')");
    return Status::Refused("peer asked for session '" + their_session.value() + "'");
  }
  std::string nonce_s = NewNonce();
  Json ch{{"nonce", nonce_s}, {"auth", secret.enabled()}};
  if (secret.enabled()) ch["proof"] = secret.Prove(kServerLabel, session, role.value(), nonce_c.value(), nonce_s);
  KA_RETURN_IF_ERROR(SendMessage(fd, FrameType::kChallenge, 0, ch, deadline));

  auto am = ReadMessage(fd, deadline);
  if (!am.ok()) return am.status().Wrap("reading AUTH");
  if (am->type == FrameType::kRefuse) {
    auto reason = StringField(am->body, "reason", 4096);
    return Status::Auth("the peer refused us: " + (reason.ok() ? reason.value() : std::string("no reason")));
  }
  if (am->type != FrameType::kAuth) {
    SendRefuse(fd, "expected AUTH");
    return Status::Protocol(std::string("expected AUTH, got ") + TypeName(am->type));
  }
  if (secret.enabled()) {
    auto proof = StringField(am->body, "proof", 128);
    if (!proof.ok() || proof.value().empty()) {
      SendAuthRefuse(fd, "no proof of the session secret (pass --secret-file)");
      return Status::Auth("peer has no secret");
    }
    if (!secret.Verify(proof.value(), kClientLabel, session, role.value(), nonce_c.value(), nonce_s)) {
      SendAuthRefuse(fd, "wrong secret");
      return Status::Auth("peer proved a different secret (wrong --secret-file)");
    }
  }
  // Only an authenticated peer learns about the session's state.
  if (Status s = check_hello(hello); !s.ok()) {
    SendRefuse(fd, s.message());
    return s;
  }
  return hello;
}

}  // namespace ka::chain
