// ReceiverImpl: keys, finding and joining the sender, and the data pipeline
// (ring, relay, consumer) started once joined. See receiver_impl.h.
#include <arpa/inet.h>
#include <unistd.h>

#include "chain/discovery.h"
#include "chain/receiver_impl.h"
#include "crypto/sha256.h"
#include "util/log.h"
#include "util/units.h"

namespace ka::chain {

Status ReceiverImpl::LoadKeys() {
  auto secret = LoadSecretOrWarn(opt_.secret_file, "this node will accept data from ANY sender of session '" +
                                                        opt_.session + "' and cannot prove who it is");
  if (!secret.ok()) return secret.status();
  secret_ = secret.value();
  if (!opt_.trust.empty()) {
    auto k = crypto::LoadPublicKey(opt_.trust);
    if (!k.ok()) return k.status().Wrap("--trust");
    trusted_ = std::make_unique<crypto::PublicKey>(k.value());
    LogInfo("accepting only a stream signed by {}", trusted_->Fingerprint());
  }
  if (!opt_.operator_key.empty()) {
    auto k = crypto::LoadPublicKey(opt_.operator_key);
    if (!k.ok()) return k.status().Wrap("--allow-remote-commands");
    operator_ = std::make_unique<crypto::PublicKey>(k.value());
    LogWarn("remote commands signed by operator key {} will run on this node", operator_->Fingerprint());
  }
  prepare_hash_ = crypto::Sha256::Of("");
  return Status::Ok();
}

Result<UniqueFd> ReceiverImpl::Connect(const Endpoint& to, Deadline deadline) {
  return opt_.connect ? opt_.connect(to, deadline) : ConnectTcp(to, deadline);
}

// One attempt: find the sender, connect, authenticate.
Result<ClientResult> ReceiverImpl::JoinOnce(const std::string& name) {
  if (!opt_.server.empty()) {
    auto e = ResolveEndpoint(opt_.server, opt_.port);
    if (!e.ok()) return e.status();
    sender_ = e.value();
  } else {
    std::vector<uint32_t> targets;
    for (const auto& b : opt_.broadcast) {
      in_addr a{};
      if (inet_pton(AF_INET, b.c_str(), &a) != 1) return Status::Invalid("bad --broadcast address '" + b + "'");
      targets.push_back(a.s_addr);
    }
    auto e = DiscoverSender(opt_.session, opt_.discovery_port, opt_.wait, targets);
    if (!e.ok()) {
      discovery_failed_ = true;  // it already waited --wait tries
      return e.status();
    }
    sender_ = e.value();
  }
  auto c = Connect(sender_, DeadlineIn(10));
  if (!c.ok()) return c.status().Wrap("connecting to the sender " + sender_.ToString());
  Hello hello;
  hello.session = opt_.session;
  hello.role = "control";
  hello.name = name;
  hello.data_port = listener_.get() >= 0 ? LocalPort(listener_.get()) : opt_.data_port;
  hello.buffer = opt_.buffer;
  std::string local = LocalAddress(c.value().get());
  hello.mac = !opt_.mac.empty() ? opt_.mac : MacOfAddress(local);
  hello.link_mbps = opt_.link_mbps ? opt_.link_mbps : LinkMbpsOfAddress(local);
  hello.aes = crypto::PreferredCipher() == crypto::Cipher::kAes256Gcm;
  return ClientHandshake(std::move(c).value(), secret_, hello, 10);
}

Status ReceiverImpl::Join() {
  KA_RETURN_IF_ERROR(LoadKeys());
  // Validate the output before joining: a bad path should fail now, not after the stream.
  auto out = opt_.make_output ? opt_.make_output()
              : opt_.exec.empty() ? OpenPathOutput(opt_.output)
                                  : OpenExecOutput(opt_.exec);
  if (!out.ok()) return out.status();
  output_ = std::move(out).value();
  if (opt_.listen) {
    auto l = ListenTcp("", opt_.data_port);
    if (!l.ok()) return l.status().Wrap("opening the data port for the next node");
    listener_ = std::move(l).value();
  }
  std::string name = opt_.name;
  if (name.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    name = host;
  }
  // A refused, reset or silent join is tried again, with backoff, until --join-timeout:
  // a busy sender, a flood of strangers or a rogue answer to discovery must not keep a
  // genuine node out. A wrong secret is said at once but also retried a few times (the
  // refusal may come from an impostor that answered our discovery).
  Deadline give_up = DeadlineIn(opt_.join_timeout);
  double backoff = 0.5;
  int auth_failures = 0;
  Result<ClientResult> joined = Status::Closed("not tried");
  for (int attempt = 1;; ++attempt) {
    joined = JoinOnce(name);
    if (joined.ok()) break;
    const Status& s = joined.status();
    bool fatal = s.code() == Status::Code::kInvalid || discovery_failed_ ||
                 (s.code() == Status::Code::kAuth && ++auth_failures >= 3) ||
                 (s.code() == Status::Code::kRefused && s.message().rfind(kSealedRefusal, 0) == 0);
    if (fatal || Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(backoff)) >
                     give_up)
      return s;
    LogWarn("join attempt {} failed: {}; trying again in {:.1f} s", attempt, s.ToString(), backoff);
    std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
    backoff = std::min(backoff * 2, 5.0);
  }
  control_ = std::move(joined->channel);
  return Welcome(joined->welcome, name);
}

// The sender's WELCOME: our identity in the session and its keys; then the pipeline starts.
Status ReceiverImpl::Welcome(const Json& welcome, const std::string& name) {
  auto w = ControlWelcome::Decode(welcome);
  if (!w.ok()) return w.status().Wrap("the sender's WELCOME");
  session_id_ = w->session_id;
  node_id_ = w->node_id;
  chunk_ = w->chunk_size;
  name_ = w->name.empty() ? name : w->name;
  digest_ = w->digest == "sha256";
  control_beat_ = w->beat;
  node_timeout_ = w->timeout;
  freeze_detect_ = w->detect;
  data_key_.cipher = crypto::ParseCipher(w->cipher).value();
  if (!FromHex(w->data_key, data_key_.key.data(), data_key_.key.size()))
    return Status::Protocol("the sender's WELCOME has a malformed data key");
  if (trusted_ && w->signer != trusted_->Fingerprint())
    return Status::Auth(w->signer.empty()
                            ? "the sender does not sign its stream; this node accepts only streams signed by " +
                                  trusted_->Fingerprint() + " (start the sender with --sign-key)"
                            : "the sender signs with " + w->signer + ", not with the trusted key " +
                                  trusted_->Fingerprint());
  StartPipeline();
  LogInfo("joined session '{}' at {} as {} (node id {}); data sealed with {}{}; waiting for the chain", opt_.session,
          sender_.ToString(), name_, node_id_, w->cipher,
          w->signer.empty() ? std::string() : ", signed by " + w->signer);
  opt_.reporter->State("joined", sender_.ToString());
  return Status::Ok();
}

// The ring, the relay to our child, the consumer that verifies and writes, and the link to our parent.
void ReceiverImpl::StartPipeline() {
  uint64_t frame = kHeaderSize + chunk_;
  uint64_t cap = std::max<uint64_t>(opt_.buffer, 4 * frame);
  cap = (cap + frame - 1) / frame * frame;
  ring_ = std::make_unique<Ring>(static_cast<size_t>(cap));
  relay_ = std::make_unique<Relay>(*ring_, opt_.splice);
  keep_cursor_ = ring_->AddCursor(0, kHeldByKeep);
  ConsumerCrypto cc;
  cc.key = data_key_;
  cc.chunk_size = chunk_;
  cc.digest = digest_;
  if (trusted_) {
    crypto::PublicKey k = *trusted_;
    cc.verify = [k](std::string_view m, std::string_view sig) { return crypto::Verify(k, m, sig); };
    cc.trusted = k.Fingerprint();
  }
  cc.prepare_hash = [this] {
    std::lock_guard l(prepare_mu_);
    return prepare_hash_;
  };
  // The consumer waits for data until the ring is closed: losing the
  // upstream is not the end, the sender re-links us.
  consumer_ = std::make_unique<Consumer>(*ring_, session_id_, cc, output_.get(), nullptr);
  consumer_thread_ = std::thread([this] {
    consumer_->Run();
    Wake();  // DONE goes out now, not at the next heartbeat
  });
  relay_thread_ = std::thread([this] { relay_->Run(); });
  if (listener_.get() >= 0) {
    accept_thread_ = std::thread([this] {
      child_handshakes_.AcceptLoop(listener_.get(), [this](UniqueFd fd, Endpoint peer, HandshakePool::Slot& s) {
        try {
          AcceptChild(std::move(fd), peer, s);
        } catch (const std::exception& e) {
          LogError("data connection from {} failed: {}", peer.ToString(), e.what());
        }
      });
    });
  }
  link_thread_ = std::thread([this] { LinkLoop(); });
  std::lock_guard l(mu_);
  joined_ = true;
  link_cv_.notify_all();
}

}  // namespace ka::chain
