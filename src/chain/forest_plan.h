// The striped forest's layout (docs/scale.md, "The forest model"; SplitStream, Castro et al.,
// SOSP 2003): the stream cut into k stripes, stripe s sent down its own tree of fan-out k over
// all N nodes. A pure function, no I/O: the simulator (`ka sim --mode forest`) lays its trees
// out with it, and a sender that feeds a forest will call the same code, so that what the
// simulator predicts is what the sender will do (as chain/topology.h does for chains).
//
// The nodes (indices 0..N-1 in locality order) are cut into k contiguous groups (group s is
// [N s / k, N (s + 1) / k): sizes differ by at most one). Tree s lists group s first, then every other
// node in order, as a k-ary heap: its first entry is the root (fed by the sender), entry i's
// parent is entry (i - 1) / k. So a node is interior only in its own group's tree, where it
// forwards to at most k children (one link's worth of upload at link / k a stripe), and a leaf
// in every other tree; every tree is ceil(log_k N) or so deep. When a group is one short of the
// interior entries its tree needs, the leaves left over hang on the first nodes with a free
// slot (those of a larger group, leaves in this tree): nobody forwards more than k flows.
// k = 1 is one chain.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace ka::chain {

inline constexpr int kForestSender = -1;  // a parent: the sender itself

struct ForestPlan {
  int nodes = 0;
  int stripes = 0;
  // Node u's parent in stripe s's tree: parent[s * nodes + u], a node index or kForestSender.
  std::vector<int> parent;
  // Per node: the flows it forwards, as (child, stripe); at most `stripes` of them.
  std::vector<std::vector<std::pair<int, int>>> children;

  int Parent(int stripe, int node) const {
    return parent[static_cast<size_t>(stripe) * static_cast<size_t>(nodes) + static_cast<size_t>(node)];
  }
  // The number of hops from the sender to the node in that stripe's tree (the root: 1).
  int Depth(int stripe, int node) const;
};

// The layout above for `nodes` >= 1 and 1 <= `stripes` <= nodes (stripes is clamped into
// that range).
ForestPlan PlanForest(int nodes, int stripes);

}  // namespace ka::chain
