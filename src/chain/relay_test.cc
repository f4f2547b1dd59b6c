#include "chain/relay.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include "chain/stream_test_util.h"
#include "util/net.h"

namespace ka::chain {
namespace {

using testing::Same;

// A connected loopback TCP pair: first is the "remote" end, second ours.
std::pair<UniqueFd, UniqueFd> TcpPair() {
  auto l = ListenTcp("127.0.0.1", 0);
  EXPECT_TRUE(l.ok());
  Endpoint e = MakeEndpoint(htonl(INADDR_LOOPBACK), LocalPort(l.value().get()));
  auto c = ConnectTcp(e, DeadlineIn(5));
  EXPECT_TRUE(c.ok());
  auto a = AcceptTcp(l.value().get(), DeadlineIn(5), nullptr);
  EXPECT_TRUE(a.ok());
  return {std::move(c).value(), std::move(a).value()};
}

std::string Random(size_t n, int seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::string ReadN(int fd, size_t n) {
  std::string s(n, '\0');
  EXPECT_TRUE(ReadFull(fd, s.data(), n, DeadlineIn(20), "test read").ok());
  return s;
}

// relay.Run() on its own thread for the scope: stopped and joined at its end, a failed
// assertion included.
class RelayRun {
 public:
  explicit RelayRun(Relay& relay) : relay_(relay), thread_([this] { relay_.Run(); }) {}
  ~RelayRun() {
    relay_.Stop();
    thread_.join();
  }
  RelayRun(const RelayRun&) = delete;
  RelayRun& operator=(const RelayRun&) = delete;

 private:
  Relay& relay_;
  std::thread thread_;
};

// Gives `relay` a new upstream and a child named `child` at position 0: the remote ends of
// both, {upstream, child}.
std::pair<UniqueFd, UniqueFd> Connect(Relay& relay, const std::string& child) {
  auto [up_remote, up_local] = TcpPair();
  auto [child_remote, child_local] = TcpPair();
  relay.SetUpstream(std::move(up_local));
  relay.OfferChild(std::move(child_local), 0, child);
  return {std::move(up_remote), std::move(child_remote)};
}

class RelayTest : public ::testing::TestWithParam<bool> {};

// upstream -> relay -> child, with the consumer side (the ring) reading too.
TEST_P(RelayTest, ForwardsEverythingToTheChildAndTheRing) {
  Ring ring(1 << 20);
  Relay relay(ring, /*use_splice=*/GetParam());
  auto [up_remote, child_remote] = Connect(relay, "child");
  int reader = ring.AddCursor(0);
  RelayRun run(relay);

  std::string data = Random(8 << 20, 1);
  std::thread writer([&, fd = up_remote.get()] { EXPECT_TRUE(WriteFull(fd, data.data(), data.size(), DeadlineIn(20), "w").ok()); });
  std::string local;  // drain the ring like a consumer
  std::thread consumer([&] {
    uint64_t pos = 0;
    while (pos < data.size()) {
      ring.WaitHead(pos + 1);
      size_t n = 0;
      const uint8_t* p = ring.ReadPtr(pos, &n);
      local.append(reinterpret_cast<const char*>(p), n);
      pos += n;
      ring.MoveCursor(reader, pos);
    }
  });
  EXPECT_TRUE(Same(ReadN(child_remote.get(), data.size()), data));
  writer.join();
  consumer.join();
  EXPECT_TRUE(Same(local, data));
}

TEST_P(RelayTest, LateChildIsReplayedFromItsPosition) {
  Ring ring(4 << 20);
  Relay relay(ring, GetParam());
  auto [up_remote, up_local] = TcpPair();
  relay.SetUpstream(std::move(up_local));
  RelayRun run(relay);
  std::string data = Random(3 << 20, 2);
  ASSERT_TRUE(WriteFull(up_remote.get(), data.data(), data.size(), DeadlineIn(10), "w").ok());
  while (ring.head() < data.size()) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  auto [child_remote, child_local] = TcpPair();
  relay.OfferChild(std::move(child_local), 1000, "late");
  EXPECT_TRUE(Same(ReadN(child_remote.get(), data.size() - 1000), data.substr(1000)));
}

TEST_P(RelayTest, DroppedChildsDataIsHeldForItsReplacement) {
  Ring ring(16 << 20);  // a quarter of the stream: only the hold keeps the dropped child's bytes
  Relay relay(ring, GetParam(), /*hold_seconds=*/30);
  auto [up_remote, c1_remote] = Connect(relay, "first");
  RelayRun run(relay);
  std::string data = Random(64 << 20, 3);
  std::thread writer([&, fd = up_remote.get()] { (void)WriteFull(fd, data.data(), data.size(), DeadlineIn(30), "w"); });
  EXPECT_TRUE(Same(ReadN(c1_remote.get(), 100000), data.substr(0, 100000)));  // reads a little, then stalls
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  uint64_t sent = relay.child_position();  // what went to the first child's socket
  relay.KickChild();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // upstream keeps coming meanwhile
  ASSERT_TRUE(ring.Holds(sent)) << "sent=" << sent << " tail=" << ring.tail() << " head=" << ring.head();
  EXPECT_LE(ring.head(), sent + (16u << 20));  // the hold stopped the ring from running over it
  auto [c2_remote, c2_local] = TcpPair();
  relay.OfferChild(std::move(c2_local), sent, "second");
  EXPECT_TRUE(Same(ReadN(c2_remote.get(), data.size() - sent), data.substr(sent)));
  writer.join();
}

TEST_P(RelayTest, UpstreamCanBeSwappedMidStream) {
  Ring ring(8 << 20);
  Relay relay(ring, GetParam());
  auto [a_remote, child_remote] = Connect(relay, "child");
  RelayRun run(relay);
  std::string data = Random(2 << 20, 4);
  ASSERT_TRUE(WriteFull(a_remote.get(), data.data(), 1 << 20, DeadlineIn(10), "w").ok());
  while (ring.head() < (1u << 20)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  relay.DetachUpstream();
  uint64_t pos = ring.head();
  auto [b_remote, b_local] = TcpPair();  // the new parent sends from our position
  relay.SetUpstream(std::move(b_local));
  ASSERT_TRUE(WriteFull(b_remote.get(), data.data() + pos, data.size() - pos, DeadlineIn(10), "w").ok());
  EXPECT_TRUE(Same(ReadN(child_remote.get(), data.size()), data));
}

// Records what a child sent and when the relay let it go.
class RecordingListener : public Relay::ChildListener {
 public:
  Status OnBytes(const uint8_t* data, size_t size) override {
    std::lock_guard l(mu);
    heard.append(reinterpret_cast<const char*>(data), size);
    return heard.find("bad") == std::string::npos ? Status::Ok() : Status::Protocol("the child said bad");
  }
  void OnDropped() override { dropped = true; }
  std::string Heard() {
    std::lock_guard l(mu);
    return heard;
  }
  std::mutex mu;
  std::string heard;
  std::atomic<bool> dropped{false};
};

bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 500 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return done();
}

// A child with a listener may speak (its link beats): the relay hands its bytes over and keeps
// feeding it; what the listener refuses drops the child, and the listener hears of it.
TEST_P(RelayTest, ChildWithAListenerMaySpeak) {
  Ring ring(1 << 20);
  Relay relay(ring, GetParam());
  auto [up_remote, up_local] = TcpPair();
  auto [child_remote, child_local] = TcpPair();
  relay.SetUpstream(std::move(up_local));
  auto listener = std::make_shared<RecordingListener>();
  uint64_t number = relay.OfferChild(std::move(child_local), 0, "child", listener);
  EXPECT_NE(number, 0u);
  RelayRun run(relay);
  ASSERT_TRUE(WriteFull(child_remote.get(), "beat 1;", 7, DeadlineIn(5), "w").ok());
  std::string data = Random(1 << 20, 5);
  ASSERT_TRUE(WriteFull(up_remote.get(), data.data(), data.size(), DeadlineIn(10), "w").ok());
  EXPECT_TRUE(Same(ReadN(child_remote.get(), data.size()), data));
  EXPECT_TRUE(WaitFor([&] { return listener->Heard() == "beat 1;"; })) << listener->Heard();
  EXPECT_EQ(relay.child_number(), number);
  ASSERT_TRUE(WriteFull(child_remote.get(), "bad", 3, DeadlineIn(5), "w").ok());
  EXPECT_TRUE(WaitFor([&] { return listener->dropped.load(); }));
  EXPECT_EQ(relay.child_number(), 0u);
  EXPECT_EQ(relay.child_status().code(), Status::Code::kProtocol);
}

// Without a listener, a child that sends anything is dropped (a data link is one-way).
TEST_P(RelayTest, ChildWithoutAListenerMayNotSpeak) {
  Ring ring(1 << 20);
  Relay relay(ring, GetParam());
  auto [up_remote, child_remote] = Connect(relay, "child");
  RelayRun run(relay);
  ASSERT_TRUE(WaitFor([&] { return relay.has_child(); }));
  ASSERT_TRUE(WriteFull(child_remote.get(), "x", 1, DeadlineIn(5), "w").ok());
  EXPECT_TRUE(WaitFor([&] { return !relay.has_child(); }));
  EXPECT_EQ(relay.child_status().code(), Status::Code::kProtocol);
}

// Frames for our parent go out on the link they were sealed for: a frame for a link that has
// been replaced is dropped, one for a link not set yet waits for it, and a parent that reads
// nothing fills the outbox, which then refuses more.
TEST_P(RelayTest, UpstreamFramesGoOnlyToTheirOwnLink) {
  Ring ring(1 << 20);
  Relay relay(ring, GetParam());
  auto [a_remote, a_local] = TcpPair();
  relay.SetUpstream(std::move(a_local), 1);
  RelayRun run(relay);
  ASSERT_TRUE(relay.SendUpstream(1, "to-a;"));
  EXPECT_EQ(ReadN(a_remote.get(), 5), "to-a;");
  ASSERT_TRUE(relay.SendUpstream(2, "to-b;"));  // link 2 does not exist yet: it waits
  relay.DetachUpstream();
  ASSERT_TRUE(relay.SendUpstream(1, "stale;"));  // sealed for link 1, which is gone
  auto [b_remote, b_local] = TcpPair();
  relay.SetUpstream(std::move(b_local), 2);
  EXPECT_EQ(ReadN(b_remote.get(), 5), "to-b;");
  ASSERT_TRUE(relay.SendUpstream(2, "more;"));
  EXPECT_EQ(ReadN(b_remote.get(), 5), "more;");  // "stale;" never came
  // b reads nothing more: its socket buffers fill, then the outbox, which then says no.
  std::string big(16 * 1024, 'x');
  bool refused = false;
  for (int i = 0; i < 10000 && !refused; ++i) {
    if (!relay.CanSendUpstream() || !relay.SendUpstream(2, big))
      refused = true;
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(refused);
}

INSTANTIATE_TEST_SUITE_P(SpliceAndCopy, RelayTest, ::testing::Values(true, false),
                         [](const auto& p) { return p.param ? "splice" : "copy"; });

}  // namespace
}  // namespace ka::chain

namespace ka::chain {
namespace {

TEST(RelayBatch, LongChainsGetSmallerBatches) {
  EXPECT_EQ(BatchForChain(1).lowat, 512u * 1024);
  EXPECT_EQ(BatchForChain(50).poll_ms, 10);
  EXPECT_EQ(BatchForChain(100).lowat, 256u * 1024);
  EXPECT_EQ(BatchForChain(100).poll_ms, 5);
  EXPECT_EQ(BatchForChain(1000).lowat, 64u * 1024);
  EXPECT_EQ(BatchForChain(1000).poll_ms, 1);
  EXPECT_EQ(BatchForChain(100000).lowat, 64u * 1024);
}

// A small batch set mid-stream still forwards every byte (the tail below the mark on the poll).
TEST(RelayBatch, SetMidStreamKeepsEveryByte) {
  Ring ring(1 << 20);
  Relay relay(ring, true);
  auto [up_remote, up_local] = TcpPair();
  auto [child_remote, child_local] = TcpPair();
  relay.SetUpstream(std::move(up_local));
  relay.OfferChild(std::move(child_local), 0, "child");
  RelayRun run(relay);
  std::string data = Random(3 << 20, 9);
  ASSERT_TRUE(WriteFull(up_remote.get(), data.data(), 1 << 20, DeadlineIn(10), "w").ok());
  relay.SetBatch(BatchForChain(1000));
  std::thread writer([&, fd = up_remote.get()] {
    EXPECT_TRUE(WriteFull(fd, data.data() + (1 << 20), data.size() - (1 << 20), DeadlineIn(20), "w").ok());
  });
  EXPECT_TRUE(Same(ReadN(child_remote.get(), data.size()), data));
  writer.join();
}

}  // namespace
}  // namespace ka::chain
