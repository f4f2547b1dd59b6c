#include "chain/forest_plan.h"

#include <algorithm>
#include <cstdint>

namespace ka::chain {

int ForestPlan::Depth(int stripe, int node) const {
  int depth = 1;
  // A tree has no cycle (PlanForest); the bound only keeps a corrupted plan from looping.
  for (int p = Parent(stripe, node); p != kForestSender && depth <= nodes; p = Parent(stripe, p)) ++depth;
  return depth;
}

ForestPlan PlanForest(int nodes, int stripes) {
  ForestPlan plan;
  plan.nodes = std::max(nodes, 0);
  if (plan.nodes == 0) return plan;
  int k = std::clamp(stripes, 1, plan.nodes);
  plan.stripes = k;
  auto n = static_cast<size_t>(plan.nodes);
  plan.parent.assign(n * static_cast<size_t>(k), kForestSender);
  plan.children.resize(n);

  std::vector<int> list;
  list.reserve(n);
  std::vector<std::pair<int, int>> leftover;  // (node, stripe): leaves still without a parent
  for (int s = 0; s < k; ++s) {
    int lo = static_cast<int>(static_cast<int64_t>(plan.nodes) * s / k);
    int hi = static_cast<int>(static_cast<int64_t>(plan.nodes) * (s + 1) / k);
    list.clear();
    for (int u = lo; u < hi; ++u) list.push_back(u);
    for (int u = 0; u < plan.nodes; ++u)
      if (u < lo || u >= hi) list.push_back(u);
    for (size_t i = 0; i < list.size(); ++i) {
      int u = list[i];
      size_t up = i == 0 ? 0 : (i - 1) / static_cast<size_t>(k);
      if (i > 0 && up >= static_cast<size_t>(hi - lo)) {  // its heap parent is not of the group
        leftover.emplace_back(u, s);
        continue;
      }
      int par = i == 0 ? kForestSender : list[up];
      plan.parent[static_cast<size_t>(s) * n + static_cast<size_t>(u)] = par;
      if (par >= 0) plan.children[static_cast<size_t>(par)].emplace_back(u, s);
    }
  }
  // A leftover is a leaf in its tree, and so is every node with a free slot there (interior
  // nodes of that tree are its own group's, whose slots the heap filled): no cycle. There are
  // k slots a node and k (N - 1) flows to place, so a free slot always exists.
  int spare = 0;
  for (const auto& [u, s] : leftover) {
    int par = spare;
    while (par < plan.nodes && (par == u || plan.children[static_cast<size_t>(par)].size() >= static_cast<size_t>(k)))
      ++par;
    if (par >= plan.nodes) par = u == 0 ? 1 : 0;  // unreachable (see above); keeps the index valid
    plan.parent[static_cast<size_t>(s) * n + static_cast<size_t>(u)] = par;
    plan.children[static_cast<size_t>(par)].emplace_back(u, s);
    while (spare < plan.nodes && plan.children[static_cast<size_t>(spare)].size() >= static_cast<size_t>(k)) ++spare;
  }
  return plan;
}

}  // namespace ka::chain
