// The topology planner: how many chains the sender feeds at once and how the
// nodes (in locality order, docs/protocol.md §6) are split among them. Pure
// functions, no I/O: the sender (multi-chain protocol) and the simulator
// (src/sim/, `ka sim`) call the same code, so what the simulator predicts is
// what the sender will do. The rules and their reasons: topology.cc and
// docs/scale.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ka::chain {

struct TopologyInput {
  int nodes = 0;                // receivers
  double link_bps = 0;          // a node's link, bits/s (0: unknown -> assume equal to uplink)
  double uplink_bps = 0;        // the sender's link, bits/s (0: unknown -> assume link_bps)
  int chains = 0;               // operator override (0: automatic)
  int max_chain = 0;            // operator override: most nodes in one chain (0: automatic)
  double fail_rate = 0.01;      // expected fraction of nodes failing during a session (for the automatic bound)
  double freeze_stall_s = 2.0;  // what one frozen node costs the nodes after it (detection + relink)
  double size_bytes = 0;        // stream size if known (0: unknown)
  // Added: the share of failures that are freezes (a kill costs only the re-link, milliseconds).
  // 0.5 matches the simulator's --fail-rate draw (half kills, half freezes).
  double freeze_share = 0.5;
};

struct Topology {
  int chains = 1;            // chains fed by the sender at once
  std::vector<int> lengths;  // nodes per chain, in order (sum == nodes); contiguous runs of the locality order
  double per_chain_bps = 0;  // rate each chain is fed at: min(link, uplink / chains)
  std::string why;           // one line an operator can read: why this many chains
};

// Size assumed when TopologyInput::size_bytes is 0.
inline constexpr double kTopologyDefaultSize = 10.0 * 1024 * 1024 * 1024;

// Expected seconds for the last node of the longest chain with `chains` chains:
// size / per-chain rate + expected freeze stalls upstream of it (see topology.cc).
double TopologyCost(const TopologyInput& in, int chains);

Topology PlanTopology(const TopologyInput& in);

// A node as the placement sees it: its IPv4 address (host order), data port and link speed.
struct PlaceNode {
  uint32_t addr = 0;
  uint16_t port = 0;
  uint32_t link_mbps = 0;  // as reported (0: unknown)
};

// The placement order (indexes into `nodes`): the fastest links first, then by address and port,
// so that (a) nodes on one subnet, hence one switch, are neighbours and (b) slower nodes come
// last: the chains are contiguous runs of this order, so the slow nodes share the last chain(s)
// and sit at their tails, where they slow only themselves; every other chain runs at the fast
// nodes' rate. A node that reports no speed counts as fast (virtual links report none).
std::vector<size_t> PlacementOrder(const std::vector<PlaceNode>& nodes);

// Which chain (0-based) the node at 0-based `index0` in locality order belongs to; -1 if out of range.
int TopologyChainOf(const Topology& t, int index0);

}  // namespace ka::chain
