#include "chain/link_watcher.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace ka::chain {
namespace {

using Clock = std::chrono::steady_clock;

// The two ends of one data link's keys: the child seals (client side), the watcher opens.
struct Link {
  std::unique_ptr<SecureChannel> child;
  std::shared_ptr<LinkWatcher> watcher;
  Clock::time_point t0 = Clock::now();
  explicit Link(const std::string& secret = "link-watcher-test-secret-0123456789") {
    InitCrypto();
    auto keys = DeriveHandshakeKeys(Secret::FromBytes(secret), "{\"h\":1}", "{\"c\":2}");
    auto other =
        DeriveHandshakeKeys(Secret::FromBytes("link-watcher-test-secret-0123456789"), "{\"h\":1}", "{\"c\":2}");
    child = std::make_unique<SecureChannel>(UniqueFd(), keys, SecureChannel::Side::kClient);
    watcher = std::make_shared<LinkWatcher>(
        7, "node7", std::make_unique<SecureChannel>(UniqueFd(), other, SecureChannel::Side::kServer), 1.5, 4, t0);
  }
  std::string Beat(uint64_t received, std::optional<uint64_t> next = std::nullopt, uint64_t nodes = 1) {
    LinkBeat b;
    b.received = received;
    b.least = next ? std::min(received, *next) : received;
    b.nodes = nodes;
    if (next) {
      b.has_next = true;
      b.next = *next;
    }
    return child->Seal(FrameType::kProgress, b.ToJson()).value();
  }
  Status Feed(const std::string& bytes, double at) {
    return watcher->Feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                         t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(at)));
  }
  Clock::time_point At(double s) const {
    return t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }
};

TEST(LinkWatcher, BeatsOpenWhateverTheirCutAndTheLatestIsKept) {
  Link l;
  std::string bytes = l.Beat(100);  // sealed one after the other: their numbers are their order
  bytes += l.Beat(200, 150, 2);
  bytes += l.Beat(300, 250, 3);
  // One byte at a time: a frame opens only once it is whole.
  for (size_t i = 0; i < bytes.size(); ++i) {
    Status s = l.Feed(bytes.substr(i, 1), 0.1);
    ASSERT_TRUE(s.ok()) << i << ": " << s.ToString();
  }
  auto b = l.watcher->beat();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->received, 300u);
  EXPECT_TRUE(b->has_next);
  EXPECT_EQ(b->next, 250u);
  EXPECT_EQ(b->nodes, 3u);
  EXPECT_EQ(b->least, 250u);
}

TEST(LinkWatcher, ASilentChildIsFrozenAfterItsTimeout) {
  Link l;
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(l.Feed(l.Beat(100u * i), 0.25 * i).ok());  // last beat at 1.75 s
  EXPECT_FALSE(l.watcher->Frozen(l.At(2.0)));
  EXPECT_FALSE(l.watcher->Frozen(l.At(3.2)));  // 1.45 s of silence: under the 1.5 s minimum
  EXPECT_TRUE(l.watcher->Frozen(l.At(3.4)));
  EXPECT_NEAR(l.watcher->Silence(l.At(3.4)), 1.65, 0.01);
  EXPECT_TRUE(l.watcher->MarkReported());
  EXPECT_FALSE(l.watcher->MarkReported());  // reported once
  l.watcher->OnDropped();                   // the relay let it go: its silence means nothing now
  EXPECT_TRUE(l.watcher->dropped());
  EXPECT_FALSE(l.watcher->Frozen(l.At(10)));
}

TEST(LinkWatcher, ForgedOrForeignFramesFailTheLink) {
  Link forged("another-secret-entirely-0123456789");
  EXPECT_EQ(forged.Feed(forged.Beat(1), 0).code(), Status::Code::kAuth);
  EXPECT_FALSE(forged.watcher->beat().has_value());

  Link l;
  auto done = l.child->Seal(FrameType::kDone, Json{{"status", "failed"}, {"payload", 0}}).value();
  Status s = l.Feed(done, 0);
  EXPECT_EQ(s.code(), Status::Code::kProtocol);
  EXPECT_NE(s.message().find("only link beats"), std::string::npos) << s.ToString();

  Link bad;
  auto body = bad.child->Seal(FrameType::kProgress, Json{{"received", 5}, {"nodes", 0}, {"least", 5}}).value();
  EXPECT_EQ(bad.Feed(body, 0).code(), Status::Code::kProtocol);  // a typed decoder refuses it
}

TEST(LinkWatcher, AnOversizedHeaderFailsBeforeItsPayloadIsWaitedFor) {
  Link l;
  std::string frame = l.Beat(1);
  uint8_t* h = reinterpret_cast<uint8_t*>(frame.data());
  PutU32(h + 8, kMaxControlPayload + 1);  // the length field
  Status s = l.Feed(frame.substr(0, kHeaderSize), 0);
  EXPECT_EQ(s.code(), Status::Code::kProtocol) << s.ToString();
}

}  // namespace
}  // namespace ka::chain
