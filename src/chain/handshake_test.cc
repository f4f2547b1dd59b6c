#include "chain/handshake.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace ka::chain {
namespace {

struct Outcome {
  Result<Json> client = Status::Invalid("unset");
  Result<Json> server = Status::Invalid("unset");
};

Outcome Shake(const Secret& client_secret, const Secret& server_secret, const std::string& client_session = "s",
            const std::function<Status(const Json&)>& check = [](const Json&) { return Status::Ok(); }) {
  InitCrypto();
  int sv[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  Outcome o;
  std::thread server([&] {
    o.server = ServerHandshake(sv[1], server_secret, "s", check, 5);
    if (o.server.ok()) (void)SendMessage(sv[1], FrameType::kWelcome, 7, Json{{"node_id", 3}}, DeadlineIn(2));
    shutdown(sv[1], SHUT_RDWR);
  });
  o.client = ClientHandshake(sv[0], client_secret, ClientHello{client_session, "control", Json{{"name", "n"}}}, 5);
  server.join();
  close(sv[0]);
  close(sv[1]);
  return o;
}

TEST(Handshake, SameSecretIsAccepted) {
  auto o = Shake(Secret::FromString("abc\n"), Secret::FromString("abc"));
  ASSERT_TRUE(o.client.ok()) << o.client.status().ToString();
  ASSERT_TRUE(o.server.ok());
  EXPECT_EQ((*o.client)["node_id"], 3);
  EXPECT_EQ((*o.server)["name"], "n");
}

TEST(Handshake, WrongSecretIsRefusedOnBothSides) {
  auto o = Shake(Secret::FromString("abc"), Secret::FromString("xyz"));
  EXPECT_EQ(o.client.status().code(), Status::Code::kAuth);
  EXPECT_EQ(o.server.status().code(), Status::Code::kAuth);
}

TEST(Handshake, MissingSecretIsRefused) {
  auto o = Shake(Secret(), Secret::FromString("abc"));
  EXPECT_EQ(o.client.status().code(), Status::Code::kAuth);
  EXPECT_NE(o.client.status().message().find("--secret-file"), std::string::npos);
  EXPECT_EQ(o.server.status().code(), Status::Code::kAuth);
}

TEST(Handshake, NodeWithSecretRefusesAnOpenSender) {
  auto o = Shake(Secret::FromString("abc"), Secret());
  EXPECT_EQ(o.client.status().code(), Status::Code::kAuth);
  EXPECT_FALSE(o.server.ok());
}

TEST(Handshake, OpenSessionWorksWithoutSecrets) {
  auto o = Shake(Secret(), Secret());
  EXPECT_TRUE(o.client.ok()) << o.client.status().ToString();
}

TEST(Handshake, OtherSessionIsRefusedWithItsName) {
  auto o = Shake(Secret(), Secret(), "other");
  EXPECT_EQ(o.client.status().code(), Status::Code::kRefused);
  EXPECT_NE(o.client.status().message().find("other"), std::string::npos);
}

TEST(Handshake, CheckCallbackCanRefuse) {
  auto o = Shake(Secret(), Secret(), "s", [](const Json&) { return Status::Refused("session is full"); });
  EXPECT_NE(o.client.status().message().find("session is full"), std::string::npos);
}

TEST(Handshake, ProofsAreBoundToLabelRoleAndNonces) {
  InitCrypto();
  Secret s = Secret::FromString("k");
  std::string p = s.Prove("ka-client", "sess", "data", "n1", "n2");
  EXPECT_TRUE(s.Verify(p, "ka-client", "sess", "data", "n1", "n2"));
  EXPECT_FALSE(s.Verify(p, "ka-server", "sess", "data", "n1", "n2"));  // no reflection
  EXPECT_FALSE(s.Verify(p, "ka-client", "sess", "control", "n1", "n2"));
  EXPECT_FALSE(s.Verify(p, "ka-client", "sess", "data", "n2", "n1"));
  EXPECT_FALSE(s.Verify(p.substr(1), "ka-client", "sess", "data", "n1", "n2"));
}

TEST(Handshake, GarbageInsteadOfHelloIsRefused) {
  InitCrypto();
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  std::string junk(4096, '\x5a');
  ASSERT_EQ(write(sv[0], junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
  auto r = ServerHandshake(sv[1], Secret::FromString("a"), "s", [](const Json&) { return Status::Ok(); }, 2);
  EXPECT_EQ(r.status().code(), Status::Code::kProtocol);
  close(sv[0]);
  close(sv[1]);
}

TEST(Handshake, SilentPeerTimesOut) {
  InitCrypto();
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  auto r = ServerHandshake(sv[1], Secret(), "s", [](const Json&) { return Status::Ok(); }, 0.3);
  EXPECT_EQ(r.status().code(), Status::Code::kTimeout);
  close(sv[0]);
  close(sv[1]);
}

}  // namespace
}  // namespace ka::chain
