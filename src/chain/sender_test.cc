// chain::Sender with real Receivers, every connection a socketpair
// (chain/session_test_util.h): verdicts and the sender's replay window.
#include "chain/sender.h"

#include <gtest/gtest.h>

#include "chain/sender_impl.h"
#include "chain/session_test_util.h"

namespace ka::chain {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the session harness

TEST(Sender, EveryNodeVerifiesTheStreamAndIsCountedOk) {
  const uint64_t size = 3 * kMiB + 12345;
  SessionHarness h(2, size, size);
  h.Start();
  h.Wait();
  ASSERT_TRUE(h.report.ok()) << h.report.status().ToString();
  EXPECT_TRUE(h.report->AllOk());
  EXPECT_EQ(h.report->bytes, size);
  ASSERT_EQ(h.report->nodes.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    const NodeReport* n = h.Node("node" + std::to_string(i + 1));
    ASSERT_NE(n, nullptr);
    EXPECT_TRUE(n->ok) << n->error;
    EXPECT_EQ(n->position, i + 1);
    EXPECT_EQ(n->bytes, size);
    EXPECT_EQ(h.observer.Bytes(n->name), size) << "the observer (dashboard, /metrics) ends as the report does";
    EXPECT_EQ(n->digest, h.report->digest);
    EXPECT_TRUE(Same(h.outputs[i]->data, Pattern(size)));
    EXPECT_TRUE(h.outputs[i]->finished_complete);
    EXPECT_EQ(h.rc[i], 0);
  }
  auto events = h.observer.Events();
  auto at = [&](const std::string& e) { return std::find(events.begin(), events.end(), e) - events.begin(); };
  EXPECT_TRUE(h.observer.Saw("chain node1 node2"));
  EXPECT_LT(at("phase streaming"), at("done node1"));
  EXPECT_LT(at("done node2"), at("finished"));
  EXPECT_LT(at("finished"), at("phase done"));
  EXPECT_LT(at("phase done"), static_cast<long>(events.size()));
}

TEST(Sender, TamperedFrameFailsTheNodeThatReadIt) {
  const uint64_t size = 2 * kMiB;
  SessionHarness h(2, size, size);
  h.ShapeLink(1, SessionHarness::kNoLimit, /*flip_at=*/200000);  // node1 -> node2
  h.Start();
  h.Wait();
  ASSERT_TRUE(h.report.ok()) << h.report.status().ToString();
  EXPECT_FALSE(h.report->AllOk());
  const NodeReport* n1 = h.Node("node1");
  const NodeReport* n2 = h.Node("node2");
  ASSERT_TRUE(n1 && n2);
  EXPECT_TRUE(n1->ok) << n1->error;
  EXPECT_TRUE(Same(h.outputs[0]->data, Pattern(size)));
  EXPECT_FALSE(n2->ok);
  EXPECT_FALSE(n2->error.empty());
  EXPECT_LT(h.outputs[1]->data.size(), size);  // nothing past the bad frame was written
  EXPECT_TRUE(h.observer.Saw("failed node2"));
  EXPECT_FALSE(h.observer.Saw("done node2"));
  EXPECT_EQ(h.rc[0], 0);
  EXPECT_NE(h.rc[1], 0);
}

// The head is lost while its child is behind; the source is a stream, so the
// child's data can only come from the sender's replay window.
TEST(Sender, NewHeadResumesFromTheSendersWindow) {
  const uint64_t size = 6 * kMiB, gate = 3 * kMiB;
  SessionHarness h(2, size, gate);
  h.ShapeLink(1, /*limit=*/1 * kMiB);  // node2 lags at about 1 MiB
  h.Start();
  EXPECT_TRUE(SessionHarness::Eventually(
      [&] { return h.observer.Bytes("node1") >= gate && h.observer.Bytes("node2") >= kMiB / 2; }));
  EXPECT_LT(h.observer.Bytes("node2"), gate);
  h.Kill(0);
  h.source().Open();
  h.Wait();
  ASSERT_TRUE(h.report.ok()) << h.report.status().ToString();
  const NodeReport* n1 = h.Node("node1");
  const NodeReport* n2 = h.Node("node2");
  ASSERT_TRUE(n1 && n2);
  EXPECT_FALSE(n1->ok);
  EXPECT_TRUE(n2->ok) << n2->error;
  EXPECT_TRUE(Same(h.outputs[1]->data, Pattern(size)));
  EXPECT_TRUE(h.observer.Saw("chain node2"));
  EXPECT_NE(h.rc[0], 0);
  EXPECT_EQ(h.rc[1], 0);
}

// node2's link beats stop reaching node1 while its control connection to the sender stays fine:
// only node1, its upstream neighbour, can tell, and the sender drops node2 on its word.
TEST(Sender, UpstreamNeighbourReportsASilentChild) {
  const uint64_t size = 4 * kMiB, gate = 1 * kMiB;
  SessionHarness h(3, size, gate);
  h.ShapeLink(1, SessionHarness::kNoLimit);  // node2's upstream goes through a proxy
  h.Start();
  ASSERT_TRUE(SessionHarness::Eventually([&] { return h.observer.Bytes("node2") >= gate / 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // a few beats: node1 knows node2's rhythm
  h.MuteUplinks(1);
  auto muted = std::chrono::steady_clock::now();
  EXPECT_TRUE(SessionHarness::Eventually([&] { return h.observer.Saw("chain node1 node3"); }, 15));
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - muted).count();
  EXPECT_LT(took, 8.0);  // 1.5 s of silence at the least; far below the sender's 10 s node timeout
  h.source().Open();
  h.Wait();
  ASSERT_TRUE(h.report.ok()) << h.report.status().ToString();
  const NodeReport* n2 = h.Node("node2");
  ASSERT_TRUE(n2);
  EXPECT_FALSE(n2->ok);
  EXPECT_NE(n2->error.find("seen by node1"), std::string::npos) << n2->error;
  EXPECT_TRUE(h.Node("node1")->ok);
  EXPECT_TRUE(h.Node("node3")->ok) << h.Node("node3")->error;
  EXPECT_TRUE(Same(h.outputs[2]->data, Pattern(size)));
}

// node2 has not heard from its child yet (node3's link beats never arrive): node1 must still keep
// what node3 may need, from node2's own window, not from node2's position. node2 is then lost, and
// node3, far behind, resumes from node1's window (the source is a stream: nobody else holds it).
TEST(Sender, WindowIsKeptForAGrandchildNotHeardFromYet) {
  const uint64_t size = 24 * kMiB, gate = 20 * kMiB;
  SessionHarness h(3, size, gate);
  h.so.freeze_detect = 30;  // node3's silence is not the point here
  h.so.node_timeout = 30;
  h.ShapeLink(2, /*limit=*/1 * kMiB, SessionHarness::kNoLimit, /*mute_up=*/true);
  h.Start();
  ASSERT_TRUE(SessionHarness::Eventually([&] { return h.observer.Bytes("node1") >= 6 * kMiB; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // node1 goes as far as its window lets it
  EXPECT_LT(h.observer.Bytes("node1"), 9 * kMiB);                // its 8 MiB ring holds node3's position
  h.Kill(1);
  h.source().Open();
  h.Wait();
  ASSERT_TRUE(h.report.ok()) << h.report.status().ToString();
  ASSERT_TRUE(h.Node("node3"));
  EXPECT_TRUE(h.Node("node3")->ok) << h.Node("node3")->error;
  EXPECT_TRUE(Same(h.outputs[2]->data, Pattern(size)));
  EXPECT_TRUE(h.Node("node1")->ok) << h.Node("node1")->error;
  EXPECT_TRUE(Same(h.outputs[0]->data, Pattern(size)));
}

// --freeze-detect 0.5: the child beats on its link every 0.083 s and is found 0.5 s after it fell
// silent (the sender's own verdict would take its 10 s node timeout).
TEST(Sender, FreezeDetectSetsTheLeastSilence) {
  const uint64_t size = 4 * kMiB, gate = 1 * kMiB;
  SessionHarness h(2, size, gate);
  h.so.freeze_detect = 0.5;
  h.ShapeLink(1, SessionHarness::kNoLimit);
  h.Start();
  ASSERT_TRUE(SessionHarness::Eventually([&] { return h.observer.Bytes("node2") >= gate / 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  h.MuteUplinks(1);
  auto muted = std::chrono::steady_clock::now();
  EXPECT_TRUE(SessionHarness::Eventually([&] { return h.observer.Saw("chain node1"); }, 15));
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - muted).count();
  EXPECT_LT(took, 3.0);
  h.source().Open();
  h.Wait();
  ASSERT_TRUE(h.report.ok()) << h.report.status().ToString();
  ASSERT_TRUE(h.Node("node2"));
  EXPECT_NE(h.Node("node2")->error.find("for 0."), std::string::npos) << h.Node("node2")->error;
}

TEST(Sender, ControlBeatsAreBoundedOverAllNodes) {
  EXPECT_EQ(ControlBeatSeconds(8, 400), 0.25);  // small sessions: 4 a second each, as ever
  EXPECT_EQ(ControlBeatSeconds(100, 400), 0.25);
  EXPECT_EQ(ControlBeatSeconds(1000, 400), 2.5);
  EXPECT_EQ(ControlBeatSeconds(10000, 400), 25);  // 400 a second in all, not 40,000
  EXPECT_EQ(ControlBeatSeconds(0, 400), 0.25);
}

// Two chains fed at once from one ring: node1 -> node2 and node3 -> node4.
TEST(Sender, TwoChainsEachGetTheWholeStream) {
  const uint64_t size = 5 * kMiB + 777;
  SessionHarness h(4, size, size);
  h.so.chains = 2;
  h.Start();
  h.Wait();
  ASSERT_TRUE(h.report.ok()) << h.report.status().ToString();
  EXPECT_TRUE(h.report->AllOk());
  for (int i = 0; i < 4; ++i) {
    const NodeReport* n = h.Node("node" + std::to_string(i + 1));
    ASSERT_NE(n, nullptr);
    EXPECT_TRUE(n->ok) << n->error;
    EXPECT_EQ(n->chain, i < 2 ? 1 : 2);
    EXPECT_TRUE(Same(h.outputs[i]->data, Pattern(size)));
    EXPECT_EQ(h.rc[i], 0);
  }
}

// --max-chain 2 on 5 nodes: three chains (2, 2, 1), the last a single node.
TEST(Sender, MaxChainBoundsEveryChain) {
  const uint64_t size = 2 * kMiB;
  SessionHarness h(5, size, size);
  h.so.max_chain = 2;
  h.Start();
  h.Wait();
  ASSERT_TRUE(h.report.ok()) << h.report.status().ToString();
  EXPECT_TRUE(h.report->AllOk());
  std::vector<int> chain_of;
  for (int i = 0; i < 5; ++i) {
    const NodeReport* n = h.Node("node" + std::to_string(i + 1));
    ASSERT_NE(n, nullptr);
    chain_of.push_back(n->chain);
    EXPECT_TRUE(Same(h.outputs[i]->data, Pattern(size)));
  }
  EXPECT_EQ(chain_of, (std::vector<int>{1, 1, 2, 2, 3}));
}

// The second chain's head is lost while its child lags; the source is a
// stream, so the child resumes from the sender's ring, which kept that
// chain's data although the first chain had moved on.
TEST(Sender, SecondChainsNewHeadResumesFromTheSendersWindow) {
  const uint64_t size = 6 * kMiB, gate = 3 * kMiB;
  SessionHarness h(4, size, gate);
  h.so.chains = 2;
  h.ShapeLink(3, /*limit=*/1 * kMiB);  // node4 lags at about 1 MiB behind node3
  h.Start();
  EXPECT_TRUE(SessionHarness::Eventually([&] {
    return h.observer.Bytes("node3") >= gate && h.observer.Bytes("node4") >= kMiB / 2 &&
           h.observer.Bytes("node2") >= gate;
  }));
  EXPECT_LT(h.observer.Bytes("node4"), gate);
  h.Kill(2);
  h.source().Open();
  h.Wait();
  ASSERT_TRUE(h.report.ok()) << h.report.status().ToString();
  const NodeReport* n3 = h.Node("node3");
  ASSERT_TRUE(n3);
  EXPECT_FALSE(n3->ok);
  for (int i : {0, 1, 3}) {
    const NodeReport* n = h.Node("node" + std::to_string(i + 1));
    ASSERT_TRUE(n);
    EXPECT_TRUE(n->ok) << n->name << ": " << n->error;
    EXPECT_TRUE(Same(h.outputs[i]->data, Pattern(size))) << n->name;
  }
  EXPECT_TRUE(h.observer.Saw("chain node1 node2 node4"));
}

}  // namespace
}  // namespace ka::chain
