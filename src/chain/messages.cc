#include "chain/messages.h"

#include "chain/frame.h"

namespace ka::chain {

namespace {

template <typename T>
Result<T> Done_(const Fields& f, T value) {
  if (!f.ok()) return f.status();
  return value;
}

bool ValidMac(const std::string& m) {
  if (m.size() != 17) return false;
  for (size_t i = 0; i < m.size(); ++i) {
    char c = m[i];
    if (i % 3 == 2) {
      if (c != ':') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// Names end up in logs, file names (logs/NODE.log) and terminals: printable ASCII only.
bool PrintableName(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e || c == '/') return false;
  return true;
}

}  // namespace

// ---- discovery ----
Result<Discover> Discover::Decode(const Json& j) {
  Discover m;
  Fields f(j, "DISCOVER");
  f.U32("version", &m.version).Str("session", &m.session, kMaxNameLen);
  return Done_(f, m);
}
Json Discover::ToJson() const { return {{"version", version}, {"session", session}}; }

Result<Here> Here::Decode(const Json& j) {
  Here m;
  uint32_t port = 0;
  Fields f(j, "HERE");
  f.U32("version", &m.version).Str("session", &m.session, kMaxNameLen).U32("port", &port, 65535);
  if (f.ok() && port == 0) f.Fail("member 'port' is 0");
  m.port = static_cast<uint16_t>(port);
  return Done_(f, m);
}
Json Here::ToJson() const { return {{"version", version}, {"session", session}, {"port", port}}; }

// ---- handshake ----
Result<Hello> Hello::Decode(const Json& j) {
  Hello m;
  Fields f(j, "HELLO");
  f.U32("version", &m.version);
  if (f.ok() && m.version != kProtocolVersion) return m;  // the caller refuses by version first
  f.Str("session", &m.session, kMaxNameLen)
      .Enum("role", &m.role, {"control", "data", "status"})
      .Hex("nonce", &m.nonce, 32)
      .Bool("auth", &m.auth);
  if (!f.ok()) return f.status();
  if (m.role == "control") {
    uint32_t port = 0;
    f.Str("name", &m.name, kMaxNameLen).U32("data_port", &port, 65535).U64("buffer", &m.buffer);
    uint64_t link = 0;
    f.OptStr("mac", &m.mac, 17).OptBool("aes", &m.aes).OptU64("link_mbps", &link, nullptr, 10'000'000);
    m.link_mbps = static_cast<uint32_t>(link);
    m.data_port = static_cast<uint16_t>(port);
    if (f.ok() && port == 0) f.Fail("member 'data_port' is 0");
    if (f.ok() && !m.mac.empty() && !ValidMac(m.mac)) f.Fail("member 'mac' is not aa:bb:cc:dd:ee:ff");
  } else if (m.role == "data") {
    f.U64("session_id", &m.session_id).U64("node_id", &m.node_id).Str("name", &m.name, kMaxNameLen);
    f.U64("position", &m.position).OptBool("branch", &m.branch);
  } else {
    f.OptStr("name", &m.name, kMaxNameLen);
  }
  if (f.ok() && !PrintableName(m.name)) f.Fail("member 'name' has characters other than printable ASCII");
  if (f.ok() && !PrintableName(m.session)) f.Fail("member 'session' has characters other than printable ASCII");
  return Done_(f, m);
}
Json Hello::ToJson() const {
  Json j{{"version", version}, {"session", session}, {"role", role}, {"nonce", nonce}, {"auth", auth}};
  if (role == "control") {
    j["name"] = name;
    j["data_port"] = data_port;
    j["buffer"] = buffer;
    if (!mac.empty()) j["mac"] = mac;
    j["aes"] = aes;
    if (link_mbps) j["link_mbps"] = link_mbps;
  } else if (role == "data") {
    j["session_id"] = session_id;
    j["node_id"] = node_id;
    j["name"] = name;
    j["position"] = position;
    if (branch) j["branch"] = true;
  } else if (!name.empty()) {
    j["name"] = name;
  }
  return j;
}

Result<Challenge> Challenge::Decode(const Json& j) {
  Challenge m;
  Fields f(j, "CHALLENGE");
  f.Hex("nonce", &m.nonce, 32).Bool("auth", &m.auth);
  return Done_(f, m);
}
Json Challenge::ToJson() const { return {{"nonce", nonce}, {"auth", auth}}; }

Result<Auth> Auth::Decode(const Json& j) {
  Auth m;
  Fields f(j, "AUTH");
  f.Hex("proof", &m.proof, 32);
  return Done_(f, m);
}
Json Auth::ToJson() const { return {{"proof", proof}}; }

Result<Refuse> Refuse::Decode(const Json& j) {
  Refuse m;
  Fields f(j, "REFUSE");
  f.Str("reason", &m.reason, 1024).OptBool("auth", &m.auth);
  return Done_(f, m);
}
Json Refuse::ToJson() const {
  Json j{{"reason", reason}};
  if (auth) j["auth"] = true;
  return j;
}

// ---- WELCOME ----
Result<ControlWelcome> ControlWelcome::Decode(const Json& j) {
  ControlWelcome m;
  Fields f(j, "WELCOME");
  f.U64("session_id", &m.session_id).U64("node_id", &m.node_id).Str("name", &m.name, kMaxNameLen + 32);
  f.U32("chunk_size", &m.chunk_size, kMaxDataPayload).U32("nodes", &m.nodes);
  f.Enum("cipher", &m.cipher, {"aes-256-gcm", "chacha20-poly1305"}).Hex("data_key", &m.data_key, 32);
  f.Enum("digest", &m.digest, {"tags", "sha256"}).OptStr("signer", &m.signer, 64);
  f.OptNum("beat", &m.beat, 0.25, 3600).OptNum("timeout", &m.timeout, 0.5, 3600);
  f.OptNum("detect", &m.detect, 0.3, 60);
  if (f.ok() && m.chunk_size < 4096) f.Fail("member 'chunk_size' is under 4096");
  if (f.ok() && (m.session_id == 0 || m.node_id == 0)) f.Fail("has a zero session or node id");
  return Done_(f, m);
}
Json ControlWelcome::ToJson() const {
  Json j{{"session_id", session_id}, {"node_id", node_id}, {"name", name},     {"chunk_size", chunk_size},
         {"nodes", nodes},           {"cipher", cipher},   {"data_key", data_key}, {"digest", digest}};
  if (!signer.empty()) j["signer"] = signer;
  j["beat"] = beat;
  j["timeout"] = timeout;
  j["detect"] = detect;
  return j;
}

Result<DataWelcome> DataWelcome::Decode(const Json& j) {
  DataWelcome m;
  Fields f(j, "WELCOME");
  f.U64("position", &m.position);
  return Done_(f, m);
}
Json DataWelcome::ToJson() const { return {{"position", position}}; }

Result<StatusWelcome> StatusWelcome::Decode(const Json& j) {
  StatusWelcome m;
  Fields f(j, "WELCOME");
  f.U64("session_id", &m.session_id).Bool("exec", &m.exec);
  return Done_(f, m);
}
Json StatusWelcome::ToJson() const { return {{"session_id", session_id}, {"exec", exec}}; }

// ---- session ----
Result<ChainMsg> ChainMsg::Decode(const Json& j) {
  ChainMsg m;
  Fields f(j, "CHAIN");
  f.U64("epoch", &m.epoch);
  const Json* order = f.Find("order");
  if (f.ok() && (!order || !order->is_array() || order->size() < 2 || order->size() > kMaxChainLen))
    f.Fail("member 'order' is not a list of 2 to " + std::to_string(kMaxChainLen) + " entries");
  if (!f.ok()) return f.status();
  for (const auto& e : *order) {
    ChainEntry c;
    uint32_t port = 0;
    Fields g(e, "CHAIN entry");
    g.U64("id", &c.id).Str("name", &c.name, kMaxNameLen + 32).Str("host", &c.host, 64).U32("port", &port, 65535);
    if (!g.ok()) return g.status();
    c.port = static_cast<uint16_t>(port);
    m.order.push_back(std::move(c));
  }
  return m;
}
Json ChainMsg::ToJson() const {
  Json members = Json::array();
  for (const auto& c : order) members.push_back({{"id", c.id}, {"name", c.name}, {"host", c.host}, {"port", c.port}});
  return {{"epoch", epoch}, {"order", members}};
}

Result<NodeProgress> NodeProgress::Decode(const Json& j) {
  NodeProgress m;
  Fields f(j, "PROGRESS");
  f.U64("received", &m.received).U64("payload", &m.payload).U64("position", &m.position).Bool("upstream", &m.upstream);
  bool present = false;
  f.OptU64("held_output_ms", &m.held_output_ms, &present, kMaxHeldMs)
      .OptU64("held_child_ms", &m.held_child_ms, &present, kMaxHeldMs)
      .OptU64("held_keep_ms", &m.held_keep_ms, &present, kMaxHeldMs);
  return Done_(f, m);
}
Json NodeProgress::ToJson() const {
  Json j{{"received", received}, {"payload", payload}, {"position", position}, {"upstream", upstream}};
  if (held_output_ms) j["held_output_ms"] = held_output_ms;
  if (held_child_ms) j["held_child_ms"] = held_child_ms;
  if (held_keep_ms) j["held_keep_ms"] = held_keep_ms;
  return j;
}

Result<SenderProgress> SenderProgress::Decode(const Json& j) {
  SenderProgress m;
  Fields f(j, "PROGRESS");
  f.U64("sent", &m.sent);
  return Done_(f, m);
}
Json SenderProgress::ToJson() const { return {{"sent", sent}}; }

Result<LinkBeat> LinkBeat::Decode(const Json& j) {
  LinkBeat m;
  Fields f(j, "PROGRESS (link)");
  f.U64("received", &m.received).OptU64("next", &m.next, &m.has_next);
  f.U64("nodes", &m.nodes, kMaxChainLen).U64("least", &m.least);
  if (f.ok() && m.nodes == 0) f.Fail("member 'nodes' is 0");
  if (f.ok() && m.least > m.received) f.Fail("member 'least' is past the child's own position");
  return Done_(f, m);
}
Json LinkBeat::ToJson() const {
  Json j{{"received", received}, {"nodes", nodes}, {"least", least}};
  if (has_next) j["next"] = next;
  return j;
}

Result<Suspect> Suspect::Decode(const Json& j) {
  Suspect m;
  Fields f(j, "SUSPECT");
  f.U64("node", &m.node).Num("silence", &m.silence, 0, 1e6);
  if (f.ok() && m.node == 0) f.Fail("member 'node' is 0");
  return Done_(f, m);
}
Json Suspect::ToJson() const { return {{"node", node}, {"silence", silence}}; }

Result<Done> Done::Decode(const Json& j) {
  Done m;
  std::string status;
  Fields f(j, "DONE");
  f.Enum("status", &status, {"ok", "failed"}).U64("payload", &m.payload).OptHex("digest", &m.digest, 32);
  f.OptStr("error", &m.error, kMaxReasonLen).OptBool("unlinked", &m.unlinked);
  m.ok = status == "ok";
  if (f.ok() && m.ok && m.digest.empty()) f.Fail("says ok without a digest");
  if (const Json* ph = f.ok() ? f.Find("phases") : nullptr) {
    if (!ph->is_object() || ph->size() > 32) {
      f.Fail("member 'phases' is not an object of at most 32 members");
    } else {
      for (const auto& [name, v] : ph->items()) {
        bool word = !name.empty() && name.size() <= 32;
        for (char c : name) word = word && ((c >= 'a' && c <= 'z') || c == '_');
        if (!word || !v.is_number() || v.get<double>() < 0 || v.get<double>() > 1e6) {
          f.Fail("member 'phases' holds a bad entry");
          break;
        }
        m.phases[name] = v.get<double>();
      }
    }
  }
  return Done_(f, m);
}
Json Done::ToJson() const {
  Json j{{"status", ok ? "ok" : "failed"}, {"payload", payload}};
  if (!digest.empty()) j["digest"] = digest;
  if (!error.empty()) j["error"] = error;
  if (unlinked) j["unlinked"] = true;
  if (!phases.empty()) j["phases"] = phases;
  return j;
}

Result<Bye> Bye::Decode(const Json& j) {
  Bye m;
  Fields f(j, "BYE");
  f.Bool("ok", &m.ok).OptStr("error", &m.error, kMaxReasonLen).OptNum("release_after", &m.release_after, 0, 86400);
  return Done_(f, m);
}
Json Bye::ToJson() const {
  Json j{{"ok", ok}};
  if (!error.empty()) j["error"] = error;
  if (release_after > 0) j["release_after"] = release_after;
  return j;
}

Result<Abort> Abort::Decode(const Json& j) {
  Abort m;
  Fields f(j, "ABORT");
  f.Str("reason", &m.reason, kMaxReasonLen);
  return Done_(f, m);
}
Json Abort::ToJson() const { return {{"reason", reason}}; }

Result<Prepare> Prepare::Decode(const Json& j) {
  Prepare m;
  Fields f(j, "PREPARE");
  f.U32("index", &m.index).U32("nodes", &m.nodes).Str("name", &m.name, kMaxNameLen + 32);
  f.Str("prepare", &m.prepare, kMaxPrepareText).OptHex("signature", &m.signature, 64);
  return Done_(f, m);
}
Json Prepare::ToJson() const {
  Json j{{"index", index}, {"nodes", nodes}, {"name", name}, {"prepare", prepare}};
  if (!signature.empty()) j["signature"] = signature;
  return j;
}

Result<Ready> Ready::Decode(const Json& j) {
  Ready m;
  Fields f(j, "READY");
  f.Bool("ok", &m.ok).OptStr("detail", &m.detail, 1024).OptStr("error", &m.error, kMaxReasonLen);
  return Done_(f, m);
}
Json Ready::ToJson() const {
  Json j{{"ok", ok}};
  if (!detail.empty()) j["detail"] = detail;
  if (!error.empty()) j["error"] = error;
  return j;
}

Result<StatusMsg> StatusMsg::Decode(const Json& j) {
  StatusMsg m;
  Fields f(j, "STATUS");
  f.Str("state", &m.state, 32).Str("detail", &m.detail, 4096);
  if (f.ok())
    for (char c : m.state)
      if (!((c >= 'a' && c <= 'z') || c == '-' || c == '_')) {
        f.Fail("member 'state' is not a lower-case word");
        break;
      }
  if (f.ok() && m.state.empty()) f.Fail("member 'state' is empty");
  return Done_(f, m);
}
Json StatusMsg::ToJson() const { return {{"state", state}, {"detail", detail}}; }

Result<LogMsg> LogMsg::Decode(const Json& j) {
  LogMsg m;
  Fields f(j, "LOG");
  f.StrList("lines", &m.lines, kMaxLogLines, kMaxLogLine);
  return Done_(f, m);
}
Json LogMsg::ToJson() const { return {{"lines", lines}}; }

Result<Exec> Exec::Decode(const Json& j) {
  Exec m;
  Fields f(j, "EXEC");
  f.U64("id", &m.id).Str("command", &m.command, kMaxCommandLen).Str("by", &m.by, 256);
  f.Hex("nonce", &m.nonce, 16).Hex("signature", &m.signature, 64);
  return Done_(f, m);
}
Json Exec::ToJson() const {
  return {{"id", id}, {"command", command}, {"by", by}, {"nonce", nonce}, {"signature", signature}};
}

Result<ExecResult> ExecResult::Decode(const Json& j) {
  ExecResult m;
  Fields f(j, "EXEC_RESULT");
  f.U64("id", &m.id).I64("exit", &m.exit, -1, 65535).Str("output", &m.output, kMaxExecOutput + 64);
  return Done_(f, m);
}
Json ExecResult::ToJson() const { return {{"id", id}, {"exit", exit}, {"output", output}}; }

Result<Request> Request::Decode(const Json& j) {
  Request m;
  Fields f(j, "REQUEST");
  f.Enum("op", &m.op, {"snapshot", "log", "exec"});
  if (!f.ok()) return f.status();
  if (m.op == "log") {
    f.Str("node", &m.node, kMaxNameLen + 32);
    bool has = false;
    f.OptU64("from", &m.from, &has);
  } else if (m.op == "exec") {
    f.Str("node", &m.node, kMaxNameLen + 32).Str("command", &m.command, kMaxCommandLen);
    f.Hex("nonce", &m.nonce, 16).Hex("signature", &m.signature, 64);
    if (f.ok() && (m.node.empty() || m.command.empty())) f.Fail("exec needs a node and a command");
  }
  return Done_(f, m);
}
Json Request::ToJson() const {
  Json j{{"op", op}};
  if (op == "log") {
    j["node"] = node;
    j["from"] = from;
  } else if (op == "exec") {
    j["node"] = node;
    j["command"] = command;
    j["nonce"] = nonce;
    j["signature"] = signature;
  }
  return j;
}

std::string ExecSignedMessage(uint64_t session_id, const std::string& node, const std::string& command,
                              const std::string& nonce_hex) {
  std::string m = "ka2-exec";
  m.push_back('\0');
  uint8_t sid[8];
  PutU64(sid, session_id);
  m.append(reinterpret_cast<const char*>(sid), 8);
  for (const std::string* s : {&node, &command, &nonce_hex}) {
    uint8_t len[4];
    PutU32(len, static_cast<uint32_t>(s->size()));
    m.append(reinterpret_cast<const char*>(len), 4);
    m += *s;
  }
  return m;
}

}  // namespace ka::chain
