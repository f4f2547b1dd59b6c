// ka-attack: the adversary of ka's security system tests (tests/system/security.sh,
// tests/system/flood.sh). Test-only: built beside the tests, never installed.
//
//   ka-attack mitm --listen PORT --to HOST:PORT [--role ROLE] [--name NAME] --attack KIND [--nth K]
//       A man in the middle WITHOUT the secret: forwards every connection, frame by frame, and
//       applies one attack to the connections whose HELLO matches ROLE/NAME (default: all).
//       KIND (K: which frame, 1-based):
//         none                          forward only
//         flip-data drop-data replay-data reorder-data   the K-th DATA frame, server -> client
//         forge-end                     END replaced by forged bytes
//         flip-control drop-control replay-control reorder-control   K-th sealed frame, server -> client
//         inject-exec forge-bye         a forged EXEC / BYE after the K-th sealed frame, server -> client
//         flip-up forge-done            K-th sealed frame / a forged DONE, client -> server
//   ka-attack insider --listen PORT --to HOST:PORT --secret-file F --session S --key-from HOST:PORT
//                     [--nth K] [--digest-too]
//       A node that HOLDS the secret (but not the golden's signing key): joins the session to
//       learn its data key, leaves, then sits on a data link and rewrites DATA frame K with
//       valid seals, a recomputed tag chain and END (and, with --digest-too, the payload's
//       SHA-256 too): only a signature check can tell.
//   ka-attack flood --to HOST:PORT [--idle N] [--oversized M] [--garbage G] [--seconds S]
//       Keeps N idle connections open (reopening those the server closes), sends M headers that
//       declare 16 MiB payloads before any authentication, and G connections of random bytes.
#include <arpa/inet.h>
#include <signal.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chain/auth.h"
#include "chain/frame.h"
#include "chain/handshake.h"
#include "chain/messages.h"
#include "chain/stream_seal.h"
#include "crypto/sha256.h"
#include "util/net.h"

using namespace ka;
using namespace ka::chain;

namespace {

std::map<std::string, std::string> Args(int argc, char** argv, int from) {
  std::map<std::string, std::string> a;
  for (int i = from; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) continue;
    if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) a[k.substr(2)] = argv[++i];
    else a[k.substr(2)] = "1";
  }
  return a;
}

void Say(const char* fmt, const std::string& a = "", const std::string& b = "") {
  std::fprintf(stderr, "ka-attack: ");
  std::fprintf(stderr, fmt, a.c_str(), b.c_str());
  std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

struct Frame {
  uint8_t h[kHeaderSize];
  std::string payload;
  FrameType type() const { return static_cast<FrameType>(h[4]); }
  bool sealed() const { return (h[5] & kFlagSealed) != 0; }
  std::string bytes() const { return std::string(reinterpret_cast<const char*>(h), kHeaderSize) + payload; }
};

bool ReadFrame(int fd, Frame* f) {
  if (!ReadFull(fd, f->h, kHeaderSize, DeadlineIn(3600), "frame").ok()) return false;
  uint32_t len = GetU32(f->h + 8);
  if (len > (32u << 20)) return false;
  f->payload.assign(len, '\0');
  return ReadFull(fd, f->payload.data(), len, DeadlineIn(3600), "frame").ok();
}

bool WriteBytes(int fd, const std::string& b) { return WriteFull(fd, b.data(), b.size(), DeadlineIn(60), "w").ok(); }

// A sealed-looking frame with a random tag: what an attacker without the key can make.
std::string Forged(FrameType t, uint64_t counter, const std::string& body) {
  Frame f;
  uint8_t tag[kTagSize];
  randombytes_buf(tag, sizeof tag);
  EncodeHeader(t, true, static_cast<uint32_t>(body.size()), 0, counter, tag, f.h);
  f.payload = body;
  return f.bytes();
}

// ---------------------------------------------------------------- mitm
struct MitmConfig {
  Endpoint to;
  std::string role, name, attack;
  int nth = 0;
};

struct Conn {
  std::atomic<bool> decided{false}, matched{false};
  std::mutex mu;
};

void Pump(int from, int to, bool down, const MitmConfig& c, Conn& conn) {
  Frame f;
  int data = 0, sealed = 0;
  std::string held;
  bool first = true;
  while (ReadFrame(from, &f)) {
    if (!down && first) {  // the client's HELLO says who this is
      first = false;
      Json h = Json::parse(f.payload, nullptr, false);
      bool m = h.is_object();
      if (m && !c.role.empty()) m = h.value("role", "") == c.role;
      if (m && !c.name.empty()) m = h.value("name", "") == c.name;
      conn.matched = m;
      conn.decided = true;
      if (m) Say("matched a %s connection (%s)", h.value("role", "?"), h.value("name", "?"));
    }
    while (down && !conn.decided) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::string out = f.bytes();
    if (conn.matched) {
      const std::string& a = c.attack;
      bool is_data = f.type() == FrameType::kData;
      bool is_ctl = f.sealed() && !IsDataType(f.type());
      if (down && is_data) ++data;
      if (is_ctl) ++sealed;
      if (down && is_data && data == c.nth) {
        if (a == "flip-data") {
          out[kHeaderSize + f.payload.size() / 2] ^= 0x01;
          Say("flipped a byte of DATA frame %s", std::to_string(data));
        } else if (a == "drop-data") {
          Say("dropped DATA frame %s", std::to_string(data));
          continue;
        } else if (a == "replay-data") {
          Say("replaying DATA frame %s", std::to_string(data));
          if (!WriteBytes(to, out)) break;
        } else if (a == "reorder-data") {
          Say("holding DATA frame %s to send it after the next", std::to_string(data));
          held = out;
          continue;
        }
      }
      if (down && is_data && data == c.nth + 1 && !held.empty()) {
        out += held;
        held.clear();
      }
      if (down && f.type() == FrameType::kEnd && a == "forge-end") {
        std::string forged = out;
        randombytes_buf(forged.data() + kTagOffset, kTagSize);
        randombytes_buf(forged.data() + kHeaderSize, forged.size() - kHeaderSize);
        out = forged;
        Say("forged END");
      }
      if (down && is_ctl && sealed == c.nth) {
        if (a == "flip-control") {
          out[kHeaderSize] ^= 0x01;
          Say("flipped a byte of sealed %s frame %s", TypeName(f.type()), std::to_string(sealed));
        } else if (a == "drop-control") {
          Say("dropped sealed %s frame %s", TypeName(f.type()), std::to_string(sealed));
          continue;
        } else if (a == "replay-control") {
          Say("replaying sealed %s frame %s", TypeName(f.type()), std::to_string(sealed));
          if (!WriteBytes(to, out)) break;
        } else if (a == "reorder-control") {
          held = out;
          Say("holding sealed %s frame %s", TypeName(f.type()), std::to_string(sealed));
          continue;
        } else if (a == "inject-exec" || a == "forge-bye") {
          if (!WriteBytes(to, out)) break;
          uint64_t next = GetU64(f.h + 24) + 1;
          out = a == "inject-exec"
                    ? Forged(FrameType::kExec, next,
                             "{\"id\":1,\"command\":\"touch /tmp/ka-attack-exec-ran\",\"by\":\"attacker\"}")
                    : Forged(FrameType::kBye, next, "{\"ok\":true}");
          Say("injected a forged %s as sealed frame %s", a == "inject-exec" ? "EXEC" : "BYE",
              std::to_string(next));
        }
      }
      if (down && is_ctl && sealed == c.nth + 1 && !held.empty()) {
        out += held;
        held.clear();
      }
      if (!down && is_ctl && sealed == c.nth) {
        if (a == "flip-up") {
          out[kHeaderSize] ^= 0x01;
          Say("flipped a byte of the client's sealed %s frame %s", TypeName(f.type()), std::to_string(sealed));
        } else if (a == "forge-done") {
          if (!WriteBytes(to, out)) break;
          out = Forged(FrameType::kDone, GetU64(f.h + 24) + 1, "{\"status\":\"ok\",\"payload\":1}");
          Say("injected a forged DONE");
        }
      }
    }
    if (!WriteBytes(to, out)) break;
  }
  ::shutdown(to, SHUT_RDWR);
  ::shutdown(from, SHUT_RDWR);
}

int Mitm(std::map<std::string, std::string>& a) {
  MitmConfig c;
  auto to = ResolveEndpoint(a["to"], 0);
  if (!to.ok()) return Say("bad --to"), 2;
  c.to = to.value();
  c.role = a["role"];
  c.name = a["name"];
  c.attack = a.count("attack") ? a["attack"] : "none";
  c.nth = a.count("nth") ? std::stoi(a["nth"]) : (c.attack.find("data") != std::string::npos ? 3 : 5);
  auto l = ListenTcp("", static_cast<uint16_t>(std::stoi(a["listen"])));
  if (!l.ok()) return Say("cannot listen: %s", l.status().ToString()), 2;
  Say("mitm listening on %s, attack %s", a["listen"], c.attack);
  for (;;) {
    Endpoint peer;
    auto in = AcceptTcp(l.value().get(), DeadlineIn(3600), &peer);
    if (!in.ok()) continue;
    auto out = ConnectTcp(c.to, DeadlineIn(5));
    if (!out.ok()) continue;
    auto conn = std::make_shared<Conn>();
    int i = in.value().release(), o = out.value().release();
    std::thread([i, o, c, conn] { Pump(i, o, false, c, *conn); }).detach();
    std::thread([i, o, c, conn] {
      Pump(o, i, true, c, *conn);
      std::this_thread::sleep_for(std::chrono::seconds(1));
      ::close(i);
      ::close(o);
    }).detach();
  }
}

// ---------------------------------------------------------------- insider
int Insider(std::map<std::string, std::string>& a) {
  InitCrypto();
  auto secret = Secret::Load(a["secret-file"]);
  if (!secret.ok()) return Say("%s", secret.status().ToString()), 2;
  auto from = ResolveEndpoint(a["key-from"], 30765);
  auto to = ResolveEndpoint(a["to"], 0);
  if (!from.ok() || !to.ok()) return Say("bad --key-from or --to"), 2;
  int nth = a.count("nth") ? std::stoi(a["nth"]) : 3;
  bool digest_too = a.count("digest-too") > 0;
  // 1. Join as a node, which the secret allows, and learn the session's data key.
  auto c = ConnectTcp(from.value(), DeadlineIn(5));
  if (!c.ok()) return Say("%s", c.status().ToString()), 2;
  Hello h;
  h.session = a["session"];
  h.role = "control";
  h.name = "insider";
  h.data_port = 9;
  h.buffer = 1;
  auto w = ClientHandshake(std::move(c).value(), secret.value(), h, 5);
  if (!w.ok()) return Say("join: %s", w.status().ToString()), 2;
  auto welcome = ControlWelcome::Decode(w->welcome);
  if (!welcome.ok()) return Say("%s", welcome.status().ToString()), 2;
  DataKey key;
  key.cipher = crypto::ParseCipher(welcome->cipher).value();
  FromHex(welcome->data_key, key.key.data(), key.key.size());
  uint64_t sid = welcome->session_id;
  w->channel->Shutdown();
  Say("learned the data key of session %s; left it", std::to_string(sid));
  // 2. Sit on a data link, re-sealing altered frames.
  auto l = ListenTcp("", static_cast<uint16_t>(std::stoi(a["listen"])));
  if (!l.ok()) return Say("%s", l.status().ToString()), 2;
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) {
    Endpoint peer;
    auto in = AcceptTcp(l.value().get(), DeadlineIn(3600), &peer);
    if (!in.ok()) continue;
    auto child = ServerHandshake(std::move(in).value(), secret.value(), ServerLimits{5, 10});
    if (!child.ok()) continue;
    auto up = ConnectTcp(to.value(), DeadlineIn(5));
    if (!up.ok()) continue;
    Hello ch = child->hello;
    auto parent = ClientHandshake(std::move(up).value(), secret.value(), ch, 5);
    if (!parent.ok()) {
      SendRefuse(*child->channel, parent.status().message());
      continue;
    }
    (void)child->channel->Send(FrameType::kWelcome, parent->welcome, 5);
    UniqueFd down = child->channel->Release();
    UniqueFd upfd = parent->channel->Release();
    Say("relaying the data link of %s", ch.name);
    auto opener = FrameOpener::Create(key);
    auto sealer = FrameSealer::Create(key, sid);
    TagChain chain;
    crypto::Sha256 sha;
    Frame f;
    int n = 0;
    bool altered = false;
    while (ReadFrame(upfd.get(), &f)) {
      FrameHeader hd;
      if (!DecodeHeader(f.h, &hd).ok()) break;
      std::string out;
      if (hd.type == FrameType::kData) {
        std::string plain(hd.length, '\0');
        (*opener)->Open(f.h, hd, reinterpret_cast<const uint8_t*>(f.payload.data()),
                        reinterpret_cast<uint8_t*>(plain.data()));
        if (++n == nth) {
          std::memcpy(plain.data(), "FORGED BY AN INSIDER", std::min<size_t>(20, plain.size()));
          altered = true;
          Say("rewrote DATA frame %s with valid seals", std::to_string(n));
        }
        sha.Update(plain.data(), plain.size());
        out.assign(kHeaderSize + plain.size(), '\0');
        std::memcpy(out.data() + kHeaderSize, plain.data(), plain.size());
        (*sealer)->SealData(hd.counter, reinterpret_cast<uint8_t*>(out.data()), plain.size());
        chain.Add(reinterpret_cast<const uint8_t*>(out.data()) + kTagOffset);
      } else if (hd.type == FrameType::kEnd) {
        uint8_t plain[EndRecord::kSize];
        (*opener)->Open(f.h, hd, reinterpret_cast<const uint8_t*>(f.payload.data()), plain);
        auto end = EndRecord::Decode(std::string_view(reinterpret_cast<char*>(plain), sizeof plain));
        if (!end.ok()) break;
        EndRecord e = end.value();
        e.tag_chain = chain.Final();
        if (digest_too && (e.flags & EndRecord::kHasDigest)) e.digest = sha.Final();
        out = (*sealer)->SealEnd(e);
        Say("re-sealed END%s", altered ? " (altered stream)" : "");
      } else {
        out = f.bytes();
      }
      if (!WriteBytes(down.get(), out)) break;
    }
  }
}

// ---------------------------------------------------------------- flood
int Flood(std::map<std::string, std::string>& a) {
  auto to = ResolveEndpoint(a["to"], 30765);
  if (!to.ok()) return Say("bad --to"), 2;
  int idle = a.count("idle") ? std::stoi(a["idle"]) : 400;
  int oversized = a.count("oversized") ? std::stoi(a["oversized"]) : 64;
  int garbage = a.count("garbage") ? std::stoi(a["garbage"]) : 64;
  double seconds = a.count("seconds") ? std::stod(a["seconds"]) : 20;
  Deadline end = DeadlineIn(seconds);
  std::deque<UniqueFd> open;
  uint64_t opened = 0, sent_oversized = 0, sent_garbage = 0;
  auto one = [&]() -> UniqueFd {
    auto c = ConnectTcp(to.value(), DeadlineIn(1));
    if (!c.ok()) return UniqueFd();
    ++opened;
    return std::move(c).value();
  };
  while (Clock::now() < end) {
    // Idle connections: keep `idle` of them open, replacing the ones the server closed.
    std::erase_if(open, [](UniqueFd& fd) {
      char b;
      ssize_t k = ::recv(fd.get(), &b, 1, MSG_DONTWAIT | MSG_PEEK);
      return k == 0 || (k < 0 && errno != EAGAIN);
    });
    while (static_cast<int>(open.size()) < idle && Clock::now() < end) {
      UniqueFd fd = one();
      if (!fd.valid()) break;
      open.push_back(std::move(fd));
    }
    for (int i = 0; i < oversized; ++i) {
      UniqueFd fd = one();
      if (!fd.valid()) continue;
      uint8_t h[kHeaderSize];
      EncodeHeader(i % 2 ? FrameType::kHello : FrameType::kResponse, false, 16u << 20, 0, 0, nullptr, h);
      if (i % 2 == 0) h[5] = kFlagSealed;
      (void)!::send(fd.get(), h, sizeof h, MSG_NOSIGNAL);
      ++sent_oversized;
    }
    for (int i = 0; i < garbage; ++i) {
      UniqueFd fd = one();
      if (!fd.valid()) continue;
      std::string junk(4096, '\0');
      randombytes_buf(junk.data(), junk.size());
      if (i % 3 == 0) std::memcpy(junk.data(), "KA02", 4);
      (void)!::send(fd.get(), junk.data(), junk.size(), MSG_NOSIGNAL);
      ++sent_garbage;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::printf("flood: %llu connections opened, %zu idle at the end, %llu oversized headers, %llu garbage\n",
              static_cast<unsigned long long>(opened), open.size(), static_cast<unsigned long long>(sent_oversized),
              static_cast<unsigned long long>(sent_garbage));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  if (sodium_init() < 0) return 2;
  if (argc < 2) {
    std::fprintf(stderr, "usage: ka-attack mitm|insider|flood ... (see tests/tools/ka_attack.cc)\n");
    return 2;
  }
  auto a = Args(argc, argv, 2);
  std::string mode = argv[1];
  if (mode == "mitm") return Mitm(a);
  if (mode == "insider") return Insider(a);
  if (mode == "flood") return Flood(a);
  std::fprintf(stderr, "ka-attack: unknown mode %s\n", mode.c_str());
  return 2;
}
