#include "chain/channel.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace ka::chain {
namespace {

struct Pair {
  std::unique_ptr<SecureChannel> client, server;
  int raw_client = -1, raw_server = -1;
  Pair() {
    InitCrypto();
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    raw_client = sv[0];
    raw_server = sv[1];
    auto keys = DeriveHandshakeKeys(Secret::FromBytes("channel-test-secret-0123456789"), "{\"h\":1}", "{\"c\":2}");
    client = std::make_unique<SecureChannel>(UniqueFd(sv[0]), keys, SecureChannel::Side::kClient);
    server = std::make_unique<SecureChannel>(UniqueFd(sv[1]), keys, SecureChannel::Side::kServer);
  }
};

// Captures what the client sends, so the test can replay, reorder or alter it.
std::string Capture(Pair& p, FrameType t, const Json& body) {
  EXPECT_TRUE(p.client->Send(t, body).ok());
  std::string buf(1 << 16, '\0');
  ssize_t n = ::recv(p.raw_server, buf.data(), buf.size(), 0);
  EXPECT_GT(n, 0);
  buf.resize(static_cast<size_t>(n));
  return buf;
}

void Inject(Pair& p, const std::string& bytes) {
  ASSERT_EQ(::send(p.raw_client, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
}

TEST(SecureChannel, MessagesRoundTripBothWaysSealed) {
  Pair p;
  ASSERT_TRUE(p.client->Send(FrameType::kProgress, Json{{"received", 5}}).ok());
  auto m = p.server->Read(DeadlineIn(2));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type, FrameType::kProgress);
  EXPECT_EQ(m->body["received"], 5);
  ASSERT_TRUE(p.server->Send(FrameType::kBye, Json{{"ok", true}}).ok());
  auto b = p.client->Read(DeadlineIn(2));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->type, FrameType::kBye);
}

TEST(SecureChannel, ContentIsNotInClear) {
  Pair p;
  std::string wire = Capture(p, FrameType::kLog, Json{{"lines", {"a very recognisable line"}}});
  EXPECT_EQ(wire.find("recognisable"), std::string::npos);
}

TEST(SecureChannel, ReplayedFrameIsRefused) {
  Pair p;
  std::string first = Capture(p, FrameType::kProgress, Json{{"n", 1}});
  Inject(p, first);
  ASSERT_TRUE(p.server->Read(DeadlineIn(2)).ok());
  Inject(p, first);  // the same bytes again
  auto m = p.server->Read(DeadlineIn(2));
  EXPECT_EQ(m.status().code(), Status::Code::kAuth);
  EXPECT_NE(m.status().message().find("replayed, reordered or dropped"), std::string::npos) << m.status().message();
}

TEST(SecureChannel, ReorderedAndDroppedFramesAreRefused) {
  Pair p;
  std::string f0 = Capture(p, FrameType::kProgress, Json{{"n", 0}});
  std::string f1 = Capture(p, FrameType::kProgress, Json{{"n", 1}});
  Inject(p, f1);  // f0 dropped (or f1 before f0)
  auto m = p.server->Read(DeadlineIn(2));
  EXPECT_EQ(m.status().code(), Status::Code::kAuth);
  // A failed channel stays failed.
  Inject(p, f0);
  EXPECT_FALSE(p.server->Read(DeadlineIn(1)).ok());
}

TEST(SecureChannel, AlteredOrForgedFrameIsRefused) {
  Pair p;
  std::string f = Capture(p, FrameType::kDone, Json{{"status", "ok"}});
  f[kHeaderSize + 3] ^= 0x20;
  Inject(p, f);
  auto m = p.server->Read(DeadlineIn(2));
  EXPECT_EQ(m.status().code(), Status::Code::kAuth);
  EXPECT_NE(m.status().message().find("failed authentication"), std::string::npos);

  Pair q;
  std::string body = "{\"id\":1,\"command\":\"id\"}";
  std::string forged(kHeaderSize + body.size(), '\0');
  uint8_t tag[kTagSize] = {1, 2, 3};
  EncodeHeader(FrameType::kExec, true, static_cast<uint32_t>(body.size()), 0, 0, tag,
               reinterpret_cast<uint8_t*>(forged.data()));
  std::memcpy(forged.data() + kHeaderSize, body.data(), body.size());
  Inject(q, forged);
  EXPECT_EQ(q.server->Read(DeadlineIn(2)).status().code(), Status::Code::kAuth);
}

TEST(SecureChannel, PlainOrDataFrameAfterTheHandshakeIsRefused) {
  Pair p;
  Inject(p, EncodePlainMessage(FrameType::kRefuse, Json{{"reason", "x"}}));
  EXPECT_EQ(p.server->Read(DeadlineIn(2)).status().code(), Status::Code::kProtocol);
}

TEST(SecureChannel, OversizedMessageIsRefusedBeforeReading) {
  Pair p;
  uint8_t h[kHeaderSize];
  EncodeHeader(FrameType::kResponse, true, 8u << 20, 0, 0, nullptr, h);  // fine for a status client, not here
  Inject(p, std::string(reinterpret_cast<char*>(h), sizeof h));
  auto m = p.server->Read(DeadlineIn(2));
  EXPECT_EQ(m.status().code(), Status::Code::kProtocol);
}

}  // namespace
}  // namespace ka::chain
