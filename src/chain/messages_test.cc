#include "chain/messages.h"

#include <gtest/gtest.h>

#include "chain/frame.h"

namespace ka::chain {
namespace {

std::string Hex(size_t bytes, char c = 'a') { return std::string(bytes * 2, c); }

TEST(Messages, HelloRoundTripsPerRole) {
  Hello h;
  h.version = kProtocolVersion;
  h.session = "lab";
  h.role = "control";
  h.nonce = Hex(32);
  h.auth = true;
  h.name = "node1";
  h.data_port = 40000;
  h.buffer = 1 << 20;
  h.mac = "52:54:00:12:34:56";
  h.link_mbps = 1000;
  auto d = Hello::Decode(h.ToJson());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->name, "node1");
  EXPECT_EQ(d->link_mbps, 1000u);
  EXPECT_EQ(d->data_port, 40000);
  EXPECT_EQ(d->mac, "52:54:00:12:34:56");
  h.role = "data";
  h.session_id = 9;
  h.node_id = 3;
  h.position = 1234;
  d = Hello::Decode(h.ToJson());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->position, 1234u);
}

TEST(Messages, HelloRejectsWhatTheProtocolDoesNotAllow) {
  Json good = {{"version", 2}, {"session", "s"}, {"role", "control"}, {"nonce", Hex(32)}, {"auth", false},
               {"name", "n"},  {"data_port", 1},  {"buffer", 1}};
  ASSERT_TRUE(Hello::Decode(good).ok());
  auto with = [&](const char* k, Json v) {
    Json j = good;
    j[k] = std::move(v);
    return Hello::Decode(j);
  };
  EXPECT_FALSE(with("role", "root").ok());
  EXPECT_FALSE(with("nonce", "xyz").ok());
  EXPECT_FALSE(with("nonce", Hex(16)).ok());
  EXPECT_FALSE(with("data_port", 70000).ok());
  EXPECT_FALSE(with("data_port", 0).ok());
  EXPECT_FALSE(with("data_port", -1).ok());
  EXPECT_FALSE(with("data_port", "80").ok());
  EXPECT_FALSE(with("name", std::string(200, 'x')).ok());
  EXPECT_FALSE(with("name", "a/b").ok());
  EXPECT_FALSE(with("name", "a\nb").ok());
  EXPECT_FALSE(with("mac", "boom").ok());
  EXPECT_FALSE(with("auth", "yes").ok());
  EXPECT_FALSE(with("link_mbps", -1).ok());
  EXPECT_FALSE(with("link_mbps", 10'000'001).ok());
  EXPECT_FALSE(with("link_mbps", "1000").ok());
  EXPECT_TRUE(with("link_mbps", 25000).ok());
  Json missing = good;
  missing.erase("data_port");
  auto m = Hello::Decode(missing);
  EXPECT_NE(m.status().message().find("'data_port'"), std::string::npos) << m.status().message();
  // Another version decodes far enough to be refused by version.
  auto v1 = Hello::Decode(Json{{"version", 1}});
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->version, 1u);
}

TEST(Messages, WelcomeChecksItsKeyAndCipher) {
  ControlWelcome w{5, 6, "node1", 262144, 8, "aes-256-gcm", Hex(32, 'b'), "tags", ""};
  ASSERT_TRUE(ControlWelcome::Decode(w.ToJson()).ok());
  Json j = w.ToJson();
  j["cipher"] = "rc4";
  EXPECT_FALSE(ControlWelcome::Decode(j).ok());
  j = w.ToJson();
  j["data_key"] = Hex(16);
  EXPECT_FALSE(ControlWelcome::Decode(j).ok());
  j = w.ToJson();
  j["chunk_size"] = 17u << 20;
  EXPECT_FALSE(ControlWelcome::Decode(j).ok());
  j = w.ToJson();
  j["session_id"] = 0;
  EXPECT_FALSE(ControlWelcome::Decode(j).ok());
}

TEST(Messages, ChainEntriesAreChecked) {
  ChainMsg c;
  c.epoch = 1;
  c.order = {{0, "sender", "", 30765}, {4, "node1", "10.0.0.2", 40000}};
  auto d = ChainMsg::Decode(c.ToJson());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->order.size(), 2u);
  EXPECT_EQ(d->order[1].port, 40000);
  Json j = c.ToJson();
  j["order"][1]["port"] = 70000;
  EXPECT_FALSE(ChainMsg::Decode(j).ok());
  j = c.ToJson();
  j["order"] = Json::array({j["order"][0]});
  EXPECT_FALSE(ChainMsg::Decode(j).ok());
  j = c.ToJson();
  j["order"][1] = "node";
  EXPECT_FALSE(ChainMsg::Decode(j).ok());
}

TEST(Messages, DoneNeedsADigestToSayOk) {
  Done d;
  d.ok = true;
  d.payload = 10;
  d.digest = Hex(32);
  ASSERT_TRUE(Done::Decode(d.ToJson()).ok());
  d.digest.clear();
  EXPECT_FALSE(Done::Decode(d.ToJson()).ok());
  Json j{{"status", "maybe"}, {"payload", 1}};
  EXPECT_FALSE(Done::Decode(j).ok());
  d.ok = false;
  d.error = "disk full";
  auto f = Done::Decode(d.ToJson());
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->ok);
  EXPECT_EQ(f->error, "disk full");
}

TEST(Messages, DonePhasesAreBounded) {
  Done d;
  d.ok = true;
  d.digest = Hex(32);
  d.phases = {{"stream", 9.5}, {"initramfs", 0.0}};
  auto r = Done::Decode(d.ToJson());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->phases.at("stream"), 9.5);
  Json j = d.ToJson();
  j["phases"]["Bad Name"] = 1;
  EXPECT_FALSE(Done::Decode(j).ok());
  j = d.ToJson();
  j["phases"]["stream"] = -1;
  EXPECT_FALSE(Done::Decode(j).ok());
  j = d.ToJson();
  j["phases"] = Json::array();
  EXPECT_FALSE(Done::Decode(j).ok());
}

// The sender once died of an uncaught nlohmann type_error on {"exit":"boom"}.
TEST(Messages, ExecResultWithTheWrongTypesIsAnError) {
  EXPECT_FALSE(ExecResult::Decode(Json{{"id", 1}, {"exit", "boom"}, {"output", ""}}).ok());
  EXPECT_FALSE(ExecResult::Decode(Json{{"id", 1}, {"exit", 1e30}, {"output", ""}}).ok());
  EXPECT_FALSE(ExecResult::Decode(Json{{"id", 1}, {"exit", 0}, {"output", 5}}).ok());
  EXPECT_FALSE(ExecResult::Decode(Json{{"id", -1}, {"exit", 0}, {"output", ""}}).ok());
  auto ok = ExecResult::Decode(Json{{"id", 1}, {"exit", 3}, {"output", "x"}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->exit, 3);
}

TEST(Messages, ByeReleaseIsBounded) {
  EXPECT_TRUE(Bye::Decode(Json{{"ok", true}, {"release_after", 2.5}}).ok());
  EXPECT_FALSE(Bye::Decode(Json{{"ok", true}, {"release_after", -1}}).ok());
  EXPECT_FALSE(Bye::Decode(Json{{"ok", true}, {"release_after", 1e9}}).ok());
  EXPECT_FALSE(Bye::Decode(Json{{"ok", "true"}}).ok());
}

TEST(Messages, LogAndStatusAreBounded) {
  EXPECT_TRUE(LogMsg::Decode(Json{{"lines", {"a", "b"}}}).ok());
  EXPECT_FALSE(LogMsg::Decode(Json{{"lines", {"a", 5}}}).ok());
  EXPECT_FALSE(LogMsg::Decode(Json{{"lines", std::vector<std::string>(kMaxLogLines + 1, "x")}}).ok());
  EXPECT_TRUE(StatusMsg::Decode(Json{{"state", "formatting"}, {"detail", "x"}}).ok());
  EXPECT_FALSE(StatusMsg::Decode(Json{{"state", "<script>"}, {"detail", ""}}).ok());
  EXPECT_FALSE(StatusMsg::Decode(Json{{"state", ""}, {"detail", ""}}).ok());
}

TEST(Messages, RequestNeedsASignatureForExec) {
  EXPECT_TRUE(Request::Decode(Json{{"op", "snapshot"}}).ok());
  EXPECT_TRUE(Request::Decode(Json{{"op", "log"}, {"node", "n"}, {"from", 3}}).ok());
  EXPECT_FALSE(Request::Decode(Json{{"op", "exec"}, {"node", "n"}, {"command", "id"}}).ok());
  EXPECT_TRUE(
      Request::Decode(Json{{"op", "exec"}, {"node", "n"}, {"command", "id"}, {"nonce", Hex(16)}, {"signature", Hex(64)}})
          .ok());
  EXPECT_FALSE(Request::Decode(Json{{"op", "shutdown"}}).ok());
}

TEST(Messages, NothingThrowsOnHostileShapes) {
  std::vector<Json> junk = {Json(), Json::array(), Json("x"), Json(5), Json{{"a", Json::array({1, 2})}},
                            Json{{"version", -5}, {"session", Json::object()}}};
  for (const auto& j : junk) {
    EXPECT_NO_THROW({
      (void)Hello::Decode(j);
      (void)Challenge::Decode(j);
      (void)ControlWelcome::Decode(j);
      (void)ChainMsg::Decode(j);
      (void)Done::Decode(j);
      (void)Prepare::Decode(j);
      (void)Exec::Decode(j);
      (void)Request::Decode(j);
    });
  }
}

TEST(Messages, ExecSignedMessageBindsEveryField) {
  std::string a = ExecSignedMessage(1, "node1", "id", Hex(16));
  EXPECT_NE(a, ExecSignedMessage(2, "node1", "id", Hex(16)));
  EXPECT_NE(a, ExecSignedMessage(1, "node2", "id", Hex(16)));
  EXPECT_NE(a, ExecSignedMessage(1, "node1", "id ", Hex(16)));
  EXPECT_NE(a, ExecSignedMessage(1, "node1", "id", Hex(16, 'b')));
  // Length prefixes: moving bytes between fields changes the message.
  EXPECT_NE(ExecSignedMessage(1, "ab", "c", Hex(16)), ExecSignedMessage(1, "a", "bc", Hex(16)));
}

}  // namespace
}  // namespace ka::chain

namespace ka::chain {
namespace {

TEST(Messages, LinkBeatIsBoundedAndConsistent) {
  LinkBeat b;
  b.received = 1000;
  b.has_next = true;
  b.next = 900;
  b.nodes = 3;
  b.least = 800;
  auto again = LinkBeat::Decode(b.ToJson());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToJson(), b.ToJson());
  EXPECT_FALSE(LinkBeat::Decode(Json{{"received", 5}, {"nodes", 0}, {"least", 5}}).ok());
  EXPECT_FALSE(LinkBeat::Decode(Json{{"received", 5}, {"nodes", kMaxChainLen + 1}, {"least", 5}}).ok());
  EXPECT_FALSE(LinkBeat::Decode(Json{{"received", 5}, {"nodes", 1}, {"least", 6}}).ok());  // least past its own
  EXPECT_FALSE(LinkBeat::Decode(Json{{"received", -1}, {"nodes", 1}, {"least", 0}}).ok());
  auto no_next = LinkBeat::Decode(Json{{"received", 5}, {"nodes", 1}, {"least", 5}});
  ASSERT_TRUE(no_next.ok());
  EXPECT_FALSE(no_next->has_next);
}

// What held the node back: optional counters, bounded, absent from older nodes.
TEST(Messages, NodeProgressCarriesWhatHeldTheNodeBack) {
  NodeProgress p{100, 90, 80, true};
  EXPECT_FALSE(p.ToJson().contains("held_output_ms"));  // nothing held: nothing sent
  p.held_output_ms = 1500;
  p.held_child_ms = 20;
  p.held_keep_ms = 3;
  auto again = NodeProgress::Decode(p.ToJson());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->held_output_ms, 1500u);
  EXPECT_EQ(again->held_child_ms, 20u);
  EXPECT_EQ(again->held_keep_ms, 3u);
  Json old{{"received", 1}, {"payload", 1}, {"position", 1}, {"upstream", false}};
  auto o = NodeProgress::Decode(old);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->held_output_ms + o->held_child_ms + o->held_keep_ms, 0u);
  for (const Json& bad : {Json(-1), Json(1.5), Json("10"), Json(kMaxHeldMs + 1)}) {
    Json j = old;
    j["held_child_ms"] = bad;
    EXPECT_FALSE(NodeProgress::Decode(j).ok()) << bad.dump();
  }
}

TEST(Messages, SuspectNamesANodeAndASilence) {
  auto s = Suspect::Decode(Suspect{4, 1.6}.ToJson());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->node, 4u);
  EXPECT_FALSE(Suspect::Decode(Json{{"node", 0}, {"silence", 1}}).ok());
  EXPECT_FALSE(Suspect::Decode(Json{{"node", 3}, {"silence", -1}}).ok());
  EXPECT_FALSE(Suspect::Decode(Json{{"node", 3}}).ok());
}

TEST(Messages, WelcomeCarriesTheControlPlanesPace) {
  ControlWelcome w;
  w.session_id = 1;
  w.node_id = 2;
  w.chunk_size = 65536;
  w.cipher = "chacha20-poly1305";
  w.data_key = std::string(64, 'a');
  w.digest = "tags";
  w.beat = 12.5;
  w.timeout = 3;
  auto again = ControlWelcome::Decode(w.ToJson());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->beat, 12.5);
  Json j = w.ToJson();
  j.erase("beat");
  j.erase("timeout");
  EXPECT_EQ(ControlWelcome::Decode(j)->beat, kDefaultControlBeat);  // absent: the default
  j["beat"] = 0.01;                                                 // faster than any sender may ask
  EXPECT_FALSE(ControlWelcome::Decode(j).ok());
}

}  // namespace
}  // namespace ka::chain
