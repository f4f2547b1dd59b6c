#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "sim/sim.h"
#include "sim/sim_test_util.h"

namespace ka::sim {
namespace {

using simtest::At;
using simtest::Base;
using simtest::kGbit;

std::vector<double> Delays(const SimParams& p) { return simtest::Delays(p, RunChain); }

// Framing slows every link; each hop delays the last node by what it holds (bed, 2026-12-07):
// --hop-bytes as fitted with the relay's default batch, which a chain of 100 halves
// (chain/relay.h BatchForChain: 256 KiB, 5 ms), one of 1,000 cuts to an eighth.
TEST(ChainSim, WireEfficiencyAndHopBytes) {
  for (int n : {30, 100, 1000}) {
    SimParams p = Base(n, 256 * kMiB, 100e6);
    p.wire_efficiency = 0.956;
    p.hop_bytes = 320 * 1024;
    double rate = 100e6 / 8 * p.wire_efficiency;
    double hop = p.hop_bytes * (n == 30 ? 1.0 : n == 100 ? 0.5 : 0.125);
    SimResult r = RunChain(p);
    double want = p.startup_s + p.size_bytes / rate + n * (p.latency_s + hop / rate);
    EXPECT_NEAR(r.total_s, want, 0.01 * want) << n;
    EXPECT_NEAR(r.nodes[0].done_s, p.startup_s + p.size_bytes / rate + p.latency_s + hop / rate, 0.05) << n;
  }
  SimParams p = Base(100, 256 * kMiB, 100e6);
  p.wire_efficiency = 0.956;
  SimResult r = RunChain(p);
  EXPECT_NEAR(r.ideal_s, p.size_bytes * 8 / 100e6, 1e-9);  // S/B on the raw rate
}

TEST(ChainSim, NoFaultTotalIsStartupPlusTransferPlusLatency) {
  for (int n : {1, 8, 200}) {
    SimParams p = Base(n, 2 * kGiB, kGbit);
    p.latency_s = 0.002;
    SimResult r = RunChain(p);
    double want = p.startup_s + At(p.size_bytes, kGbit) + n * p.latency_s;
    EXPECT_NEAR(r.total_s, want, 0.01 * want) << n << " nodes";
    EXPECT_EQ(r.survivors, n);
    EXPECT_EQ(r.failed, 0);
    EXPECT_EQ(r.incomplete, 0);
    EXPECT_EQ(r.topology.chains, 1);
    EXPECT_LT(r.stall_s, 0.05);
    EXPECT_NEAR(r.ideal_s, At(p.size_bytes, kGbit), 1e-9);
    // 4 control heartbeats a node, 400 a second at most, and the head's 4 link beats.
    EXPECT_DOUBLE_EQ(r.sender_msgs_per_s, std::min(4.0 * n, 400.0) + 4.0);
  }
}

TEST(ChainSim, AKillCostsTheNodesAfterItTheRelink) {
  SimParams p = Base(10, 1 * kGiB, kGbit);
  p.dt = 0.001;
  p.kills = {{5, 3.0}};
  p.relink_s = 0.2;
  p.splice = false;  // the copying relay: the nodes before the kill go on
  std::vector<double> d = Delays(p);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(d[static_cast<size_t>(i)], 0, 0.005) << "node " << i + 1;
  EXPECT_EQ(d[4], -1);  // failed
  for (int i = 5; i < 10; ++i) EXPECT_NEAR(d[static_cast<size_t>(i)], 0.2, 0.005) << "node " << i + 1;
  // Splicing relays (the default): node 4 got 0.2 s ahead of node 6 and reads nothing until node 6
  // has caught up from its ring (relay.cc, catch-up); node 3 then waits for node 4, and so on up.
  p.splice = true;
  d = Delays(p);
  for (int i = 0; i < 10; ++i) {
    if (i == 4) continue;  // the failed one
    EXPECT_NEAR(d[static_cast<size_t>(i)], 0.2, 0.005) << "node " << i + 1;
  }
  p.relink_s = 0.01;  // the default: a kill costs about nothing
  d = Delays(p);
  for (int i = 5; i < 10; ++i) EXPECT_NEAR(d[static_cast<size_t>(i)], 0.01, 0.005) << "node " << i + 1;
  SimResult r = RunChain(p);
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(r.survivors, 9);
  EXPECT_EQ(r.branches, 0);  // the keep rule: the new parent still held the position
}

TEST(ChainSim, AFreezeInTheMiddleCostsDetectAfterItAndLessBefore) {
  SimParams p = Base(10, 2 * kGiB, kGbit);
  p.dt = 0.001;
  p.splice = false;            // the copying relay: buffers shield the nodes before the freeze
  p.buffer_bytes = 64 * kMiB;  // 0.54 s at 1 Gbit/s, less than detection
  p.freezes = {{5, 3.0}};
  const double cost = p.detect_s + p.relink_s;
  const double before = std::max(0.0, cost - At(p.buffer_bytes, kGbit));
  std::vector<double> d = Delays(p);
  for (int i = 5; i < 10; ++i) EXPECT_NEAR(d[static_cast<size_t>(i)], cost, 0.01) << "node " << i + 1;
  for (int i = 0; i < 4; ++i) EXPECT_LE(d[static_cast<size_t>(i)], before + 0.01) << "node " << i + 1;
  EXPECT_NEAR(d[3], before, 0.01);  // the parent fills its ring, then waits
  SimResult r = RunChain(p);
  EXPECT_NEAR(r.stall_s, cost, 0.01);

  p.buffer_bytes = 256 * kMiB;  // 2.1 s: the nodes before never notice
  d = Delays(p);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(d[static_cast<size_t>(i)], 0, 0.005) << "node " << i + 1;
  for (int i = 5; i < 10; ++i) EXPECT_NEAR(d[static_cast<size_t>(i)], cost, 0.01) << "node " << i + 1;
}

TEST(ChainSim, WithSplicingRelaysAFreezeCostsTheWholeChain) {
  // relay.cc, as built: a parent reads nothing while its re-linked child catches up from its ring,
  // so whatever the nodes before the freeze gained in their buffers they give back, node by node
  // up to the head: the buffer shields nobody.
  SimParams p = Base(10, 2 * kGiB, kGbit);
  p.dt = 0.001;
  p.freezes = {{5, 3.0}};
  const double cost = p.detect_s + p.relink_s;
  for (double buffer : {64 * kMiB, 256 * kMiB}) {
    p.buffer_bytes = buffer;
    std::vector<double> d = Delays(p);
    for (int i = 0; i < 10; ++i) {
      if (i == 4) continue;  // the frozen one
      EXPECT_NEAR(d[static_cast<size_t>(i)], cost, 0.01) << "node " << i + 1 << ", buffer " << buffer;
    }
  }
}

TEST(ChainSim, FreezingTheLastNodeCostsTheOthersNothingWhenTheBufferOutlastsDetection) {
  SimParams p = Base(6, 2 * kGiB, kGbit);
  p.dt = 0.001;
  p.freezes = {{6, 3.0}};
  p.buffer_bytes = 256 * kMiB;  // 2.1 s > 1.51 s
  std::vector<double> d = Delays(p);
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(d[static_cast<size_t>(i)], 0, 0.005) << "node " << i + 1;
  SimResult r = RunChain(p);
  EXPECT_EQ(r.failed, 1);
  EXPECT_LT(r.stall_s, 0.01);  // the last survivor (node 5) never waited
  p.buffer_bytes = 64 * kMiB;  // 0.54 s: its parent waits for the rest (no re-link: it has no successor)
  d = Delays(p);
  EXPECT_NEAR(d[4], p.detect_s - At(p.buffer_bytes, kGbit), 0.005);
}

TEST(ChainSim, TheSenderRingStallsTheOtherChainOnlyAfterSenderBufferOverRate) {
  SimParams p = Base(20, 2 * kGiB, kGbit);
  p.uplink_bps = 2 * kGbit;  // two chains of 10 at full rate
  p.dt = 0.001;
  p.freezes = {{1, 3.0}};  // the head of chain A holds the sender ring's tail
  p.sender_buffer_bytes = 64 * kMiB;
  const double cost = p.detect_s + p.relink_s;
  SimResult r = RunChain(p);
  ASSERT_EQ(r.topology.chains, 2);
  ASSERT_EQ(r.topology.lengths, (std::vector<int>{10, 10}));
  std::vector<double> d = Delays(p);
  for (int i = 1; i < 10; ++i) EXPECT_NEAR(d[static_cast<size_t>(i)], cost, 0.01) << "chain A node " << i + 1;
  double b = cost - At(p.sender_buffer_bytes, kGbit);
  for (int i = 10; i < 20; ++i) EXPECT_NEAR(d[static_cast<size_t>(i)], b, 0.01) << "chain B node " << i + 1;

  p.sender_buffer_bytes = 512 * kMiB;  // 4.3 s of chain B's traffic: it never notices
  d = Delays(p);
  for (int i = 10; i < 20; ++i) EXPECT_NEAR(d[static_cast<size_t>(i)], 0, 0.005) << "chain B node " << i + 1;

  // A freeze in the middle of chain A reaches its head through the catch-up pauses (splicing
  // relays), then chain B through the sender's ring; with copying relays chain B never notices.
  p.freezes = {{5, 3.0}};
  p.sender_buffer_bytes = 64 * kMiB;
  d = Delays(p);
  for (int i = 10; i < 20; ++i) EXPECT_NEAR(d[static_cast<size_t>(i)], b, 0.01) << "chain B node " << i + 1;
  p.splice = false;
  d = Delays(p);
  for (int i = 10; i < 20; ++i) EXPECT_NEAR(d[static_cast<size_t>(i)], 0, 0.005) << "chain B node " << i + 1;
}

TEST(ChainSim, SharedCoresSlowEveryFlowProportionally) {
  SimParams p = Base(100, 1 * kGiB, kGbit);
  p.host_cores = 2;
  SimResult r = RunChain(p);
  // Per GiB: the sender, 99 forwarding hops, the last node; 2 cores share it.
  double cpu = p.cpu_sender + 99 * p.cpu_hop + p.cpu_last;
  double want = p.startup_s + cpu / 2 + 100 * p.latency_s;
  EXPECT_NEAR(r.total_s, want, 0.02 * want);
  EXPECT_GT(r.total_s, 5 * (p.startup_s + At(p.size_bytes, kGbit)));
  p.host_cores = 4;  // twice the cores: half the time
  EXPECT_NEAR(RunChain(p).total_s - p.startup_s, (want - p.startup_s) / 2, 0.02 * want);
  p.host_cores = 1000;  // more than the 121 needed at full rate: the links bound
  EXPECT_NEAR(RunChain(p).total_s, p.startup_s + At(p.size_bytes, kGbit) + 100 * p.latency_s, 0.01);
}

TEST(ChainSim, LateJoinersCatchUpFromTheTailOrABranch) {
  SimParams p = Base(5, 1 * kGiB, kGbit);
  p.lates = {{5, 0.2}};  // the tail still holds position 0: joins the chain
  SimResult r = RunChain(p);
  EXPECT_EQ(r.survivors, 5);
  EXPECT_EQ(r.incomplete, 0);
  EXPECT_EQ(r.branches, 0);
  EXPECT_NEAR(r.nodes[4].done_s, p.startup_s + 0.2 + p.relink_s + At(p.size_bytes, kGbit), 0.02);

  p.lates = {{5, 4.0}};      // 4 s in: 500 MB sent, beyond the tail's 128 MiB: a branch
  p.uplink_bps = 2 * kGbit;  // room for the branch beside the chain
  p.chains = 1;
  r = RunChain(p);
  EXPECT_EQ(r.branches, 1);
  EXPECT_TRUE(r.nodes[4].branch);
  EXPECT_NEAR(r.nodes[4].done_s, p.startup_s + 4.0 + p.relink_s + At(p.size_bytes, kGbit), 0.02);
  EXPECT_NEAR(r.nodes[3].done_s, p.startup_s + At(p.size_bytes, kGbit) + 4 * p.latency_s, 0.02);
}

TEST(ChainSim, DrawnFailuresAreHalfKillsHalfFreezesOnDistinctNodes) {
  SimParams p = Base(1000, 1 * kGiB, kGbit);
  p.fail_rate = 0.01;
  p.seed = 7;
  std::vector<NodeEvent> kills, freezes, k2, f2;
  DrawFailures(p, &kills, &freezes);
  EXPECT_EQ(kills.size(), 5u);
  EXPECT_EQ(freezes.size(), 5u);
  std::vector<bool> seen(1001, false);
  for (auto* l : {&kills, &freezes})
    for (const auto& e : *l) {
      EXPECT_FALSE(seen[static_cast<size_t>(e.node)]);
      seen[static_cast<size_t>(e.node)] = true;
      EXPECT_GE(e.at, 0);
      EXPECT_LT(e.at, At(p.size_bytes, kGbit));
    }
  DrawFailures(p, &k2, &f2);  // the same seed, the same draw
  ASSERT_EQ(k2.size(), kills.size());
  EXPECT_EQ(k2[0].node, kills[0].node);
  EXPECT_EQ(k2[0].at, kills[0].at);
  SimResult r = RunChain(p);
  EXPECT_EQ(r.failed, 10);
  EXPECT_EQ(r.survivors, 990);
  EXPECT_EQ(r.incomplete, 0);
}

TEST(ChainSim, ThePlannersChoiceBeatsOneMoreChain) {
  // chain/topology.cc: splitting the uplink further never pays; the model must agree.
  for (double uplink : {1 * kGbit, 4 * kGbit}) {
    SimParams p = Base(2000, 1 * kGiB, kGbit);
    p.uplink_bps = uplink;
    p.fail_rate = 0.05;
    SimResult planned = RunChain(p);
    EXPECT_EQ(planned.topology.chains, static_cast<int>(uplink / kGbit));
    p.chains = planned.topology.chains + 1;
    SimResult more = RunChain(p);
    EXPECT_LT(planned.total_s, more.total_s) << uplink;
  }
}

// At 100 Mbit/s each hop holds more than the relay's poll: what the hops behind a frozen member
// hold keeps the members after it fed for part of the detection, the more so the further they are
// (the bed's stall at N = 100; docs/scale.md). At 1 Gbit/s a hop holds less than a poll: no credit.
TEST(ChainSim, QueuedHopsShortenTheStallBehindAFreeze) {
  SimParams p = Base(30, 256 * kMiB, 100e6);
  p.dt = 0.001;
  p.hop_bytes = 320 * 1024;
  p.freezes = {{10, 5.0}};
  const double per_hop = At(p.hop_bytes, 100e6) - 0.005;  // a chain of 30: 10 ms polls, half on average
  SimResult r = RunChain(p);
  const double cost = p.detect_s + p.relink_s;
  EXPECT_NEAR(r.nodes[10].max_stall_s, cost - 1 * per_hop, 0.005);   // node 11: its own hop
  EXPECT_NEAR(r.nodes[29].max_stall_s, cost - 20 * per_hop, 0.005);  // node 30: 20 hops
  EXPECT_NEAR(r.stall_s, cost - 20 * per_hop, 0.005);

  p.link_bps = kGbit;
  p.size_bytes = 2 * kGiB;
  EXPECT_NEAR(RunChain(p).stall_s, cost, 0.005);
}

// A slow link wakes the relay on its poll before a batch is in, so a hop holds about --hop-polls
// polls, whatever the rate (bed: 27.4 ms a hop with 10 ms polls at 100 and at 50 Mbit/s,
// docs/scale.md), not --hop-bytes at the link rate, which would double at half the rate. A fast
// link fills the batch first: --hop-bytes.
TEST(ChainSim, ASlowLinkHoldsItsPollsAFastOneItsBatch) {
  for (double link : {50e6, 100e6, kGbit}) {
    SimParams p = Base(30, link * 10 / 8, link);  // 10 s of stream
    p.dt = 0.001;
    p.hop_bytes = 1 * kMiB;
    p.hop_polls = 2.74;
    const double hold = std::min(At(p.hop_bytes, link), 2.74 * 0.010);  // a chain of 30: 10 ms polls
    SimResult clean = RunChain(p);
    EXPECT_NEAR(clean.nodes[29].done_s - clean.nodes[0].done_s, 29 * (p.latency_s + hold), 0.002) << link;
    p.freezes = {{10, 5.0}};
    // node 30, 20 hops after the freeze, fed by what they held less the re-filled hops' half polls
    EXPECT_NEAR(RunChain(p).stall_s, p.detect_s + p.relink_s - 20 * (hold - 0.005), 0.005) << link;
  }
}

// A failure may carry what a bed measured for that one failure: its own detection, its own re-link.
TEST(ChainSim, AFailureCarriesItsOwnDetectionAndRelink) {
  SimParams p = Base(10, 2 * kGiB, kGbit);
  p.dt = 0.001;
  p.splice = false;             // the copying relay: only the nodes after a failure wait
  p.buffer_bytes = 256 * kMiB;  // and the ones before never notice
  p.freezes = {{5, 3.0, 0.5, 0.2}};
  std::vector<double> d = Delays(p);
  for (int i = 5; i < 10; ++i) EXPECT_NEAR(d[static_cast<size_t>(i)], 0.5 + 0.2, 0.01) << "node " << i + 1;
  p.freezes.clear();
  p.kills = {{5, 3.0, -1, 0.3}, {8, 6.0}};  // the second: the session's --relink
  d = Delays(p);
  EXPECT_NEAR(d[5], 0.3, 0.005);
  EXPECT_NEAR(d[8], 0.3 + p.relink_s, 0.005);
}

TEST(ChainSim, ANodeReLinkedToAFrozenOneWaitsForItToBeDropped) {
  SimParams p = Base(10, 4 * kGiB, 10 * kGbit);
  p.dt = 0.001;
  p.freezes = {{5, 2.0}, {4, 2.5}};  // node 6 re-links to node 4 at 3.51, frozen since 2.5
  SimResult r = RunChain(p);
  // Node 6 reads again only when node 4 is dropped too (4.0) and it re-links to node 3.
  EXPECT_NEAR(r.nodes[5].max_stall_s, 2.5 + p.detect_s + p.relink_s - 2.0, 0.01);
  EXPECT_EQ(r.failed, 2);
}

TEST(ChainSim, TenThousandNodesTenGigabytesRuns) {
  SimParams p = Base(10000, 10 * kGiB, kGbit);
  p.uplink_bps = 10 * kGbit;
  p.fail_rate = 0.01;
  SimResult r = RunChain(p);
  std::printf("10,000 nodes x 10 GiB, 10 chains, 1%% failures: chain model %.2f s wall (simulated %.1f s, dt %.3f)\n",
              r.wall_s, r.total_s, r.dt);
  EXPECT_EQ(r.topology.chains, 10);
  EXPECT_EQ(r.survivors, 9900);
  EXPECT_EQ(r.incomplete, 0);
  EXPECT_GT(r.total_s, r.ideal_s);
  SimResult s = RunSwarm(p);
  std::printf("10,000 nodes x 10 GiB: swarm model %.2f s wall (simulated %.1f s)\n", s.wall_s, s.total_s);
  EXPECT_EQ(s.incomplete, 0);
}

}  // namespace
}  // namespace ka::sim
