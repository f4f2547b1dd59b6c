#include "chain/handshake.h"

namespace ka::chain {

namespace {

void PlainRefuse(int fd, const std::string& reason, bool auth) {
  Refuse r{reason, auth};
  (void)SendPlain(fd, FrameType::kRefuse, r.ToJson().dump(), DeadlineIn(1));
}

// A plain REFUSE comes before anyone is authenticated (anyone could have sent
// it); a sealed one comes from a server that proved the secret.
Status RefusalStatus(const Json& body, bool sealed) {
  auto r = Refuse::Decode(body);
  std::string text = r.ok() ? r->reason : "no reason given";
  if (!sealed) {
    if (r.ok() && r->auth) return Status::Auth("refused before authentication: " + text);
    return Status::Refused("refused before authentication: " + text);
  }
  return Status::Refused(std::string(kSealedRefusal) + text);
}

}  // namespace

Result<ClientResult> ClientHandshake(UniqueFd fd, const Secret& secret, Hello hello, double timeout_s,
                                     uint32_t max_read) {
  Deadline deadline = DeadlineIn(timeout_s);
  hello.version = kProtocolVersion;
  hello.nonce = NewNonce();
  hello.auth = secret.enabled();
  std::string hello_text = hello.ToJson().dump();
  KA_RETURN_IF_ERROR(SendPlain(fd.get(), FrameType::kHello, hello_text, deadline));

  auto ch = ReadPlain(fd.get(), deadline);
  if (!ch.ok()) return ch.status().Wrap("waiting for the handshake challenge");
  if (ch->type == FrameType::kRefuse) return RefusalStatus(ch->body, false);
  if (ch->type != FrameType::kChallenge)
    return Status::Protocol(std::string("expected CHALLENGE, got ") + TypeName(ch->type));
  auto challenge = Challenge::Decode(ch->body);
  if (!challenge.ok()) return challenge.status();
  if (challenge->auth && !secret.enabled())
    return Status::Auth("the server of session '" + hello.session +
                        "' requires the shared secret; pass the same file with --secret-file");
  if (!challenge->auth && secret.enabled()) {
    PlainRefuse(fd.get(), "this node has a secret but the peer runs without one", true);
    return Status::Auth("the peer of session '" + hello.session +
                        "' runs WITHOUT a secret but this node was given one; refusing to trust it (start the "
                        "sender with the same --secret-file)");
  }
  HandshakeKeys keys = DeriveHandshakeKeys(secret, hello_text, ch->payload);
  KA_RETURN_IF_ERROR(SendPlain(fd.get(), FrameType::kAuth, Auth{ClientProof(keys)}.ToJson().dump(), deadline));

  // The answer: a plain REFUSE (the proof did not pass) or the first sealed frame.
  uint8_t header[kHeaderSize];
  KA_RETURN_IF_ERROR(ReadFull(fd.get(), header, sizeof header, deadline, "waiting for WELCOME"));
  FrameHeader h;
  KA_RETURN_IF_ERROR(DecodeHeader(header, &h));
  if (!h.sealed) {
    if (h.type != FrameType::kRefuse) return Status::Protocol(std::string("expected WELCOME, got ") + TypeName(h.type));
    std::string payload(h.length, '\0');
    KA_RETURN_IF_ERROR(ReadFull(fd.get(), payload.data(), payload.size(), deadline, "reading REFUSE"));
    auto body = ParseBody(h.type, payload);
    if (!body.ok()) return body.status();
    return RefusalStatus(*body, false);
  }
  auto channel = std::make_unique<SecureChannel>(std::move(fd), keys, SecureChannel::Side::kClient, max_read);
  auto w = channel->ReadAfterHeader(header, deadline);
  if (!w.ok()) {
    if (w.status().code() == Status::Code::kAuth)
      return Status::Auth("the server's answer failed authentication: it does not hold this node's secret (an "
                          "impostor, or another --secret-file)");
    return w.status().Wrap("waiting for WELCOME");
  }
  if (w->type == FrameType::kRefuse) return RefusalStatus(w->body, true);
  if (w->type != FrameType::kWelcome) return Status::Protocol(std::string("expected WELCOME, got ") + TypeName(w->type));
  return ClientResult{std::move(w->body), std::move(channel)};
}

Result<ServerResult> ServerHandshake(UniqueFd fd, const Secret& secret, const ServerLimits& limits) {
  Deadline deadline = DeadlineIn(limits.timeout);
  Deadline hello_deadline = std::min(deadline, DeadlineIn(limits.hello_timeout));
  auto hm = ReadPlain(fd.get(), hello_deadline);
  if (!hm.ok()) return hm.status().Wrap("reading HELLO");
  if (hm->type != FrameType::kHello) {
    PlainRefuse(fd.get(), "expected HELLO", false);
    return Status::Protocol(std::string("expected HELLO, got ") + TypeName(hm->type));
  }
  auto hello = Hello::Decode(hm->body);
  if (hello.ok() && hello->version != kProtocolVersion) {
    PlainRefuse(fd.get(), "unsupported protocol version (this peer speaks version " +
                              std::to_string(kProtocolVersion) + ")", false);
    return Status::Protocol("peer speaks protocol version " + std::to_string(hello->version));
  }
  if (!hello.ok()) {
    PlainRefuse(fd.get(), "malformed HELLO: " + hello.status().message(), false);
    return hello.status();
  }
  if (secret.enabled() && !hello->auth) {
    PlainRefuse(fd.get(), "this server requires the shared secret: pass --secret-file", true);
    return Status::Auth("peer has no secret");
  }
  Challenge challenge{NewNonce(), secret.enabled()};
  std::string challenge_text = challenge.ToJson().dump();
  KA_RETURN_IF_ERROR(SendPlain(fd.get(), FrameType::kChallenge, challenge_text, deadline));

  auto am = ReadPlain(fd.get(), deadline);
  if (!am.ok()) return am.status().Wrap("reading AUTH");
  if (am->type == FrameType::kRefuse) {
    auto r = Refuse::Decode(am->body);
    return Status::Auth("the peer refused us: " + (r.ok() ? r->reason : std::string("no reason")));
  }
  if (am->type != FrameType::kAuth) {
    PlainRefuse(fd.get(), "expected AUTH", false);
    return Status::Protocol(std::string("expected AUTH, got ") + TypeName(am->type));
  }
  auto auth = Auth::Decode(am->body);
  HandshakeKeys keys = DeriveHandshakeKeys(secret, hm->payload, challenge_text);
  if (!auth.ok() || !CheckClientProof(keys, auth->proof)) {
    PlainRefuse(fd.get(), "authentication failed", true);
    return Status::Auth(secret.enabled() ? "wrong secret (the peer's proof does not match this server's secret)"
                                         : "malformed proof");
  }
  ServerResult r;
  r.hello = std::move(hello).value();
  r.channel = std::make_unique<SecureChannel>(std::move(fd), keys, SecureChannel::Side::kServer);
  return r;
}

void SendRefuse(SecureChannel& channel, const std::string& reason) {
  (void)channel.Send(FrameType::kRefuse, Refuse{reason.substr(0, 1024), false}.ToJson(), 1);
}

}  // namespace ka::chain
