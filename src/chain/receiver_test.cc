// chain::Receiver in a whole session over socketpairs
// (chain/session_test_util.h): relinks around a lost node, the replay from a
// member's window, and each node's own verdict on what it received.
#include "chain/receiver.h"

#include <gtest/gtest.h>

#include "chain/session_test_util.h"

namespace ka::chain {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): the session harness

// node2 of sender -> node1 -> node2 -> node3 dies while node3 lags behind:
// node3 relinks to node1, which replays what node3 lacks from its window
// (the source is a stream: nothing else holds it).
TEST(Receiver, ChildOfALostNodeResumesFromTheGrandparentsWindow) {
  const uint64_t size = 6 * kMiB, gate = 3 * kMiB;
  SessionHarness h(3, size, gate);
  h.ShapeLink(2, /*limit=*/1 * kMiB);  // node2 -> node3 holds after about 1 MiB
  h.Start();
  EXPECT_TRUE(SessionHarness::Eventually(
      [&] { return h.observer.Bytes("node1") >= gate && h.observer.Bytes("node2") >= gate &&
                   h.observer.Bytes("node3") >= kMiB / 2; }));
  EXPECT_LT(h.observer.Bytes("node3"), gate);
  h.Kill(1);
  h.source().Open();
  h.Wait();
  ASSERT_TRUE(h.report.ok()) << h.report.status().ToString();
  const NodeReport* n1 = h.Node("node1");
  const NodeReport* n2 = h.Node("node2");
  const NodeReport* n3 = h.Node("node3");
  ASSERT_TRUE(n1 && n2 && n3);
  EXPECT_TRUE(n1->ok) << n1->error;
  EXPECT_FALSE(n2->ok);
  EXPECT_TRUE(n3->ok) << n3->error;
  EXPECT_TRUE(h.outputs[0]->data == Pattern(size));
  EXPECT_TRUE(h.outputs[2]->data == Pattern(size));
  EXPECT_TRUE(h.observer.Saw("chain node1 node2 node3"));
  EXPECT_TRUE(h.observer.Saw("chain node1 node3"));
  EXPECT_EQ(h.rc[0], 0);
  EXPECT_NE(h.rc[1], 0);
  EXPECT_EQ(h.rc[2], 0);
}

// A byte flipped on the link into node2 (node2 forwards before it verifies,
// so node3 receives it too): every receiver verifies each frame itself, so
// neither writes past the bad frame, and a verdict is each node's own.
TEST(Receiver, ATamperedFrameIsRefusedByEveryNodeThatReceivedIt) {
  const uint64_t size = 4 * kMiB;
  SessionHarness h(3, size, size);
  h.ShapeLink(1, SessionHarness::kNoLimit, /*flip_at=*/300000);  // node1 -> node2
  h.Start();
  h.Wait();
  ASSERT_TRUE(h.report.ok()) << h.report.status().ToString();
  EXPECT_TRUE(Same(h.outputs[0]->data, Pattern(size)));
  EXPECT_EQ(h.rc[0], 0);
  for (int i : {0, 1, 2}) {
    const NodeReport* n = h.Node("node" + std::to_string(i + 1));
    ASSERT_TRUE(n != nullptr) << i;
    SCOPED_TRACE(n->name);
    if (i == 0) {
      EXPECT_TRUE(n->ok) << n->error;  // upstream of the flip
      continue;
    }
    EXPECT_FALSE(n->ok);
    EXPECT_NE(n->error.find("failed authentication"), std::string::npos) << n->error;
    // What was written is the verified prefix, to the byte: every frame before the bad one.
    const std::string& out = h.outputs[static_cast<size_t>(i)]->data;
    EXPECT_LT(out.size(), 300000u);
    EXPECT_TRUE(Same(out, Pattern(out.size())));
    EXPECT_NE(h.rc[static_cast<size_t>(i)], 0);
    EXPECT_TRUE(h.observer.Saw("failed " + n->name));
    EXPECT_FALSE(h.observer.Saw("done " + n->name));
  }
}

}  // namespace
}  // namespace ka::chain
