// SenderImpl: keys, the source, the listener and the threads (see sender_impl.h).
#include "chain/sender_impl.h"
#include "crypto/sha256.h"
#include "util/log.h"
#include "util/units.h"

namespace ka::chain {

Status SenderImpl::SetupCrypto() {
  if (opt_.digest != "tags" && opt_.digest != "sha256")
    return Status::Invalid("--digest " + opt_.digest + ": choose tags or sha256");
  crypto::Cipher cipher = crypto::PreferredCipher();
  if (opt_.cipher != "auto") {
    auto c = crypto::ParseCipher(opt_.cipher);
    if (!c.ok()) return c.status().Wrap("--cipher");
    cipher = c.value();
  }
  data_key_ = DataKey::Random(cipher);
  if (!opt_.sign_key.empty()) {
    auto k = crypto::LoadSigningKey(opt_.sign_key);
    if (!k.ok()) return k.status().Wrap("--sign-key");
    sign_key_ = std::make_unique<crypto::SigningKey>(k.value());
  }
  prepare_text_ = opt_.prepare.is_null() ? std::string() : opt_.prepare.dump();
  if (prepare_text_.size() > kMaxPrepareText)
    return Status::Invalid("the clone manifest is " + std::to_string(prepare_text_.size()) +
                           " bytes, over the protocol's limit of " + std::to_string(kMaxPrepareText));
  auto prepare_hash = crypto::Sha256::Of(prepare_text_);
  if (sign_key_) {
    std::string sig = crypto::Sign(*sign_key_, PrepareSignedMessage(session_id_, prepare_hash));
    prepare_signature_ = ToHex(sig.data(), sig.size());
  }
  producer_crypto_.key = data_key_;
  producer_crypto_.digest = opt_.digest == "sha256" || sign_key_;
  producer_crypto_.prepare_hash = prepare_hash;
  if (sign_key_) {
    crypto::SigningKey key = *sign_key_;
    producer_crypto_.sign = [key](std::string_view m) { return crypto::Sign(key, m); };
  }
  return Status::Ok();
}

Status SenderImpl::OpenSource() {
  auto s = opt_.open_source    ? opt_.open_source()
           : !opt_.exec.empty() ? OpenExecSource(opt_.exec)
                                : OpenPathSource(opt_.source_path);
  if (!s.ok()) return s.status();
  source_ = std::move(s).value();
  if (source_->rereadable()) {
    uint64_t frames = source_->size() ? *source_->size() / opt_.chunk + 1 : 0;
    tag_log_ = std::make_unique<TagLog>(frames);
    producer_crypto_.tag_log = tag_log_.get();
  }
  return Status::Ok();
}

Status SenderImpl::Setup() {
  auto secret = LoadSecretOrWarn(opt_.secret_file,
                                 "this session is NOT authenticated. Any host on the network can join it, read the "
                                 "stream or pose as a node");
  if (!secret.ok()) return secret.status();
  secret_ = secret.value();
  KA_RETURN_IF_ERROR(SetupCrypto());
  KA_RETURN_IF_ERROR(OpenSource());
  control_beat_ = ControlBeatSeconds(opt_.nodes, opt_.control_rate);
  if (control_beat_ > kDefaultControlBeat)
    LogInfo(
        "{} nodes: each sends its heartbeat every {:.2f} s ({:.0f} a second in all); their upstream neighbours "
        "watch them for freezes",
        opt_.nodes, control_beat_, opt_.control_rate);
  observer_.SessionStarted(fmt::format("{:016x}", session_id_), source_->Describe(), source_->size());
  LogInfo("data frames sealed with {}{}", crypto::CipherName(data_key_.cipher),
          sign_key_ ? "; stream and manifest signed by " + sign_key_->pub.Fingerprint() : std::string());
  if (opt_.listen) {
    auto l = ListenTcp(opt_.bind, opt_.port);
    if (!l.ok()) return l.status();
    listener_ = std::move(l).value();
    KA_RETURN_IF_ERROR(discovery_.Start(opt_.session, opt_.discovery_port, opt_.port));
  }
  StartThreads();
  return Status::Ok();
}

void SenderImpl::StartThreads() {
  keep_cursor_ = ring_.AddCursor(0);
  producer_ = std::make_unique<Producer>(ring_, session_id_, *source_, opt_.chunk, producer_crypto_);
  producer_thread_ = std::thread([this] { producer_->Run(); });
  {
    std::lock_guard l(mu_);
    AddRelays(1);
  }
  if (listener_.get() >= 0) {
    accept_thread_ = std::thread([this] {
      handshakes_.AcceptLoop(listener_.get(), [this](UniqueFd fd, Endpoint peer, HandshakePool::Slot& slot) {
        try {
          Handshake(std::move(fd), peer, slot);
        } catch (const std::exception& e) {  // never let one peer end the session
          LogError("connection from {} failed: {}", peer.ToString(), e.what());
        }
      });
    });
  }
  heartbeat_thread_ = std::thread([this] { HeartbeatLoop(); });
  std::lock_guard l(mu_);
  set_up_ = true;
  cv_.notify_all();
}

}  // namespace ka::chain
