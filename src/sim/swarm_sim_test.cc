#include <gtest/gtest.h>

#include <cmath>

#include "sim/sim.h"
#include "sim/sim_test_util.h"

namespace ka::sim {
namespace {

using simtest::Base;
using simtest::kGbit;

TEST(SwarmSim, WithoutFailuresTakesStartupPlusSizeOverEfficientRate) {
  for (int n : {1, 10, 500}) {
    SimParams p = Base(n, 2 * kGiB, kGbit);
    SimResult r = RunSwarm(p);
    double want = p.swarm_startup_s + p.size_bytes * 8 / (kGbit * p.swarm_efficiency);
    EXPECT_NEAR(r.total_s, want, 0.02 * want) << n << " nodes";
    EXPECT_EQ(r.survivors, n);
    EXPECT_EQ(r.incomplete, 0);
    EXPECT_EQ(r.mode, "swarm");
  }
}

TEST(SwarmSim, TheSeedsUplinkBoundsASwarmOfSlowerPeersOnlyAtTheStart) {
  // Peers at 10 Gbit/s, seed at 1: the seed's pieces are the bound (every byte leaves it once).
  SimParams p = Base(100, 1 * kGiB, 10 * kGbit);
  p.uplink_bps = kGbit;
  SimResult r = RunSwarm(p);
  double want = p.swarm_startup_s + p.size_bytes * 8 / (kGbit * p.swarm_efficiency);
  EXPECT_NEAR(r.total_s, want, 0.03 * want);
}

TEST(SwarmSim, AFailureRemovesThePeerWithoutStallingTheOthers) {
  SimParams p = Base(50, 1 * kGiB, kGbit);
  SimResult clean = RunSwarm(p);
  p.kills = {{10, 2.0}};
  p.freezes = {{20, 3.0}};
  SimResult r = RunSwarm(p);
  EXPECT_EQ(r.failed, 2);
  EXPECT_EQ(r.survivors, 48);
  EXPECT_TRUE(r.nodes[9].failed);
  EXPECT_LT(r.nodes[9].done_s, 0);
  EXPECT_NEAR(r.total_s, clean.total_s, 0.01);
  EXPECT_LT(r.stall_s, 0.05);
}

TEST(SwarmSim, SharedCoresSlowIt) {
  SimParams p = Base(100, 1 * kGiB, kGbit);
  double free_s = RunSwarm(p).total_s;
  p.host_cores = 2;
  SimResult r = RunSwarm(p);
  // 100 peers at --cpu-hop per GiB plus the seed's share, on 2 cores.
  double want = p.swarm_startup_s + (100 * p.cpu_hop + p.cpu_sender) / 2;
  EXPECT_GT(r.total_s, 3 * free_s);
  EXPECT_NEAR(r.total_s, want, 0.05 * want);
}

}  // namespace
}  // namespace ka::sim
