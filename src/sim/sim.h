// The scale simulator (issue 17, `ka sim`): predicts how long one stream takes to reach N nodes
// through ka's chains (the chain as built: src/chain/relay.cc, ring.h, keep_window.h,
// freeze_detector.h, laid out by chain/topology.h, the planner the sender uses) or through a
// BitTorrent-like swarm, with faults, late joiners and a shared-CPU bed. A time-stepped fluid model:
// no packets, no bytes, only positions and rates. docs/scale.md describes the model and its limits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chain/topology.h"
#include "util/status.h"

namespace ka::sim {

inline constexpr double kMiB = 1024.0 * 1024.0;
inline constexpr double kGiB = 1024.0 * kMiB;

// `I@T`: node I (1-based, locality order) at T seconds after the stream start; for a failure,
// optionally `/detect=D` (a freeze: dropped D s after it, instead of --detect) and `/relink=R` (its
// successor reading from its new parent R s after the failure is known, instead of --relink): what
// a bed measured for that one failure (bench/scale_bench.sh passes them).
struct NodeEvent {
  int node = 0;
  double at = 0;
  double detect_s = -1;  // < 0: SimParams::detect_s
  double relink_s = -1;  // < 0: SimParams::relink_s
};

struct SimParams {
  int nodes = 0;
  double size_bytes = 0;
  double link_bps = 0;      // every node's link, each direction (full duplex)
  double uplink_bps = 0;    // the sender's (0: = link)
  double latency_s = 1e-4;  // per hop, one way
  // Payload per byte of link rate: TCP/IP and Ethernet framing (1448 payload bytes per 1538 on the
  // wire at MTU 1500 with TCP timestamps, preamble, FCS and gap: 0.94; on a tc tbf link, which counts
  // 1514, 0.956). `ka sim` defaults to 0.94; 1 here leaves the model exact for tests.
  double wire_efficiency = 1;
  // What each hop holds before the next one has it, beyond the latency (the relay's wake-up batches
  // and the socket buffers): a node d hops from the sender is d x (what a hop holds) / rate later, and
  // the hops behind a failure drain it. The relay wakes on whichever comes first, its batch
  // (SO_RCVLOWAT) or its poll (chain/relay.h RelayBatch), so a hop holds the lesser of
  //   hop_bytes (with the default batch; scaled as BatchForChain scales it): fast links, and
  //   hop_polls x the relay's poll, in time: slow links, where a poll brings less than a batch.
  // Measured on the bed (docs/scale.md): 1 MiB at 1 Gbit/s (N = 8: 8.6 ms a hop), and 2.74 polls
  // (27.4 ms a hop at 100 Mbit/s with 10 ms polls; the same at 50 Mbit/s). `ka sim` defaults to
  // those; 0 here (0 hop_polls: no cap).
  double hop_bytes = 0;
  double hop_polls = 0;
  int chains = 0;  // planner overrides (0: automatic)
  int max_chain = 0;
  double buffer_bytes = 128 * kMiB;         // each node's ring: its replay window
  double sender_buffer_bytes = 128 * kMiB;  // the sender's one ring, shared by its chains
  double startup_s = 0.5;                   // sender start to the first byte (joins, handshakes)
  std::vector<NodeEvent> kills, freezes, lates;
  double fail_rate = 0;  // drawn failures (half kills, half freezes), on top of the listed ones
  uint64_t seed = 1;
  double detect_s = 1.5;   // silence after which a frozen node is dropped
  double relink_s = 0.01;  // failure known -> successor reading from its new parent
  bool splice = true;      // relays splice (the default): a parent pauses while its child catches up
  int host_cores = 0;      // 0: every node its own machine; C: all nodes share C cores
  double cpu_hop = 1.2, cpu_sender = 1.05, cpu_last = 1.17;  // CPU-s per GiB (docs/performance.md)
  double piece_bytes = 4 * kMiB;                             // swarm
  double swarm_startup_s = 1.0;
  double swarm_efficiency = 0.9;
  double dt = 0;               // time step, s (0: automatic)
  double heartbeat_hz = 4;     // PROGRESS messages per node per second, each way, at most...
  double control_rate = 400;   // ...this many in all (ka send --control-rate), plus 4 link beats per chain head
  double planner_stall_s = 2;  // TopologyInput::freeze_stall_s
  // Forest (SplitStream-like striping, forest_sim.cc): k stripes, each down its own tree of fan-out k
  // (0: automatic, the k in 2..8 with the least total), and the share of the link left unused by the
  // stream so that a stalled stripe can catch up (0: the stream runs at the full link).
  int stripes = 0;
  double forest_headroom = 0;
};

struct NodeResult {
  double done_s = -1;      // completion, s since the sender started (-1: never)
  bool failed = false;     // killed or frozen (never completes)
  double max_stall_s = 0;  // longest time its position did not grow, after its first byte
  int chain = -1;          // chain mode: its chain (late joiners: the one they joined)
  bool branch = false;     // chain mode: fed by a sender branch at the end
};

struct SimResult {
  std::string mode;  // "chain", "swarm" or "forest"
  chain::Topology topology;
  std::vector<NodeResult> nodes;
  double total_s = 0;  // last survivor done (from the sender start, startup included)
  double mean_s = 0, p99_s = 0;
  double stall_s = 0;  // longest stall of the last surviving node (of each chain: the worst)
  double ideal_s = 0;  // size / min(link, uplink)
  double ratio = 0;    // total_s / ideal_s
  int survivors = 0, failed = 0;
  int incomplete = 0;                 // survivors that never completed (the run was cut: stuck or too long)
  int branches = 0;                   // nodes that ended fed by a sender branch
  double sender_msgs_per_s = 0;       // control messages the sender receives per second
  double sender_msgs_sent_per_s = 0;  // and sends
  double dt = 0;
  double wall_s = 0;  // the simulation's own run time
  int stripes = 0;    // forest mode: k (stripes, and each tree's fan-out)
  int depth = 0;      // forest mode: the deepest node of any stripe tree at the start
  int overloads = 0;  // forest mode: orphans given to an ancestor beyond its k flows (no slot held them)
};

// `I@T` with 1 <= I <= nodes and T >= 0.
Result<NodeEvent> ParseNodeEvent(const std::string& text, int nodes);
// Checks the parameters: the message names the option at fault.
Status Validate(const SimParams& p);

// The layout both models use: the planner's answer for the nodes present at the start.
chain::Topology Plan(const SimParams& p);
// Kills and freezes: the listed ones plus round(fail_rate * nodes) drawn with `seed` over distinct
// nodes (even draws kill, odd freeze) and uniformly over [0, size / per-chain rate).
void DrawFailures(const SimParams& p, std::vector<NodeEvent>* kills, std::vector<NodeEvent>* freezes);
// Per node (0-based index): how long its freeze goes undetected and how long its successor takes to
// re-link after its failure, the event's own (`/detect=`, `/relink=`) or else the session's.
struct FailureTimes {
  std::vector<double> detect_s, relink_s;
};
FailureTimes TimesOf(const SimParams& p, const std::vector<NodeEvent>& kills, const std::vector<NodeEvent>& freezes);
// The time step: p.dt, or 5 ms, raised to keep nodes x steps under ~2e8.
double StepFor(const SimParams& p, double expected_s);

SimResult RunChain(const SimParams& p);
SimResult RunSwarm(const SimParams& p);
// p.stripes = 0: runs k = 2..8 (at most nodes) and returns the fastest (the others in `why`).
SimResult RunForest(const SimParams& p);

// The sender's control load (docs/protocol.md §6), into r: control heartbeats at a bounded total
// rate, plus the link beats of the `fed` members it feeds itself (chain heads, stripe roots); the
// other link beats stay between neighbours.
void ControlLoad(const SimParams& p, int nodes, int fed, SimResult* r);
// Fills total/mean/p99/survivors/failed/incomplete/ideal/ratio from r.nodes.
void Summarize(const SimParams& p, SimResult* r);

}  // namespace ka::sim
