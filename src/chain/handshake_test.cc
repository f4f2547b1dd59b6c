#include "chain/handshake.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace ka::chain {
namespace {

struct Outcome {
  Result<ClientResult> client = Status::Closed("not run");
  Result<ServerResult> server = Status::Closed("not run");
  Result<Message> client_got = Status::Closed("not run");
};

Secret S(const std::string& s) { return Secret::FromBytes(s); }

// Runs both sides over a socket pair; the server answers WELCOME {"hi": 1} once
// authenticated, then sends one more sealed message.
Outcome Shake(const Secret& client_secret, const Secret& server_secret, const std::string& role = "control") {
  InitCrypto();
  int sv[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  Outcome o;
  std::thread server([&] {
    o.server = ServerHandshake(UniqueFd(sv[1]), server_secret, ServerLimits{2, 5});
    if (o.server.ok()) {
      (void)o.server->channel->Send(FrameType::kWelcome, Json{{"hi", 1}});
      (void)o.server->channel->Send(FrameType::kChain, Json{{"n", 2}});
    }
  });
  Hello h;
  h.session = "s";
  h.role = role;
  h.name = "node1";
  h.data_port = 4000;
  h.buffer = 1;
  o.client = ClientHandshake(UniqueFd(sv[0]), client_secret, h, 5);
  if (o.client.ok()) o.client_got = o.client->channel->Read(DeadlineIn(5));
  server.join();
  return o;
}

TEST(Handshake, SameSecretAuthenticatesBothWays) {
  auto o = Shake(S("correct horse battery staple 0123456789"), S("correct horse battery staple 0123456789\n"));
  ASSERT_TRUE(o.server.ok()) << o.server.status().ToString();
  ASSERT_TRUE(o.client.ok()) << o.client.status().ToString();
  EXPECT_EQ(o.client->welcome["hi"], 1);
  EXPECT_EQ(o.server->hello.name, "node1");
  EXPECT_EQ(o.server->hello.data_port, 4000);
  ASSERT_TRUE(o.client_got.ok()) << o.client_got.status().ToString();
  EXPECT_EQ(o.client_got->type, FrameType::kChain);
}

TEST(Handshake, WrongSecretIsRefusedWithoutRevealingAnything) {
  auto o = Shake(S("secret-one-secret-one-secret-one"), S("secret-two-secret-two-secret-two"));
  EXPECT_EQ(o.server.status().code(), Status::Code::kAuth);
  EXPECT_EQ(o.client.status().code(), Status::Code::kAuth);
  EXPECT_NE(o.client.status().message().find("authentication failed"), std::string::npos)
      << o.client.status().message();
  // The refusal before authentication never names the session.
  EXPECT_EQ(o.client.status().message().find("session 's'"), std::string::npos);
}

TEST(Handshake, ServerWithSecretRefusesClientWithout) {
  auto o = Shake(Secret(), S("a-long-enough-secret-for-the-test"));
  EXPECT_EQ(o.server.status().code(), Status::Code::kAuth);
  EXPECT_EQ(o.client.status().code(), Status::Code::kAuth);
  EXPECT_NE(o.client.status().message().find("secret"), std::string::npos);
}

TEST(Handshake, ClientWithSecretRefusesServerWithout) {
  auto o = Shake(S("a-long-enough-secret-for-the-test"), Secret());
  EXPECT_EQ(o.client.status().code(), Status::Code::kAuth);
  EXPECT_NE(o.client.status().message().find("WITHOUT a secret"), std::string::npos);
  EXPECT_FALSE(o.server.ok());
}

TEST(Handshake, NoSecretOnEitherSideStillSealsTheChannel) {
  auto o = Shake(Secret(), Secret());
  ASSERT_TRUE(o.client.ok()) << o.client.status().ToString();
  ASSERT_TRUE(o.server.ok());
  ASSERT_TRUE(o.client_got.ok());
}

TEST(Handshake, KeysDependOnTheWholeTranscript) {
  Secret s = S("the-same-secret-the-same-secret");
  const std::string hello = "{\"nonce\":\"1\"}", challenge = "{\"nonce\":\"2\"}";
  auto a = DeriveHandshakeKeys(s, hello, challenge);
  auto e = DeriveHandshakeKeys(s, hello, challenge);
  EXPECT_EQ(a.client_send, e.client_send);
  EXPECT_NE(a.client_send, a.server_send);
  EXPECT_NE(a.proof, a.client_send);
  EXPECT_TRUE(CheckClientProof(a, ClientProof(e)));
  EXPECT_FALSE(CheckClientProof(a, ""));
  // Another challenge, a byte more in the hello, another secret: other keys, a proof refused.
  for (const auto& other :
       {DeriveHandshakeKeys(s, hello, "{\"nonce\":\"3\"}"), DeriveHandshakeKeys(s, hello + " ", challenge),
        DeriveHandshakeKeys(S("another-secret-another-secret"), hello, challenge)}) {
    EXPECT_NE(a.client_send, other.client_send);
    EXPECT_FALSE(CheckClientProof(a, ClientProof(other)));
  }
}

TEST(Handshake, SilentPeerTimesOutQuickly) {
  InitCrypto();
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  auto t0 = Clock::now();
  auto r = ServerHandshake(UniqueFd(sv[1]), Secret(), ServerLimits{0.3, 5});
  EXPECT_FALSE(r.ok());
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2));
  close(sv[0]);
}

TEST(Handshake, OversizedHelloIsRefusedBeforeAnyAllocation) {
  InitCrypto();
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  uint8_t h[kHeaderSize];
  EncodeHeader(FrameType::kHello, false, 16u << 20, 0, 0, nullptr, h);
  ASSERT_EQ(write(sv[0], h, sizeof h), static_cast<ssize_t>(sizeof h));
  auto r = ServerHandshake(UniqueFd(sv[1]), Secret(), ServerLimits{2, 5});
  EXPECT_EQ(r.status().code(), Status::Code::kProtocol);
  EXPECT_NE(r.status().message().find("over its limit"), std::string::npos) << r.status().message();
  close(sv[0]);
}

TEST(Handshake, AnythingButHelloIsRefused) {
  InitCrypto();
  for (FrameType t : {FrameType::kAuth, FrameType::kChallenge, FrameType::kDiscover}) {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    std::string f = EncodePlainFrame(t, "{}");
    ASSERT_EQ(write(sv[0], f.data(), f.size()), static_cast<ssize_t>(f.size()));
    auto r = ServerHandshake(UniqueFd(sv[1]), Secret(), ServerLimits{2, 5});
    EXPECT_FALSE(r.ok()) << TypeName(t);
    close(sv[0]);
  }
}

}  // namespace
}  // namespace ka::chain
