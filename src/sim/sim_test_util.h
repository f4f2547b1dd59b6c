// Test helpers of the simulator's tests (unit tests only): a session's parameters, the time a
// transfer takes, and each node's delay from the faults of a run.
#pragma once

#include <functional>
#include <vector>

#include "sim/sim.h"

namespace ka::sim::simtest {

constexpr double kGbit = 1e9;

inline SimParams Base(int nodes, double size, double link, int stripes = 0) {
  SimParams p;
  p.nodes = nodes;
  p.size_bytes = size;
  p.link_bps = link;
  p.stripes = stripes;
  return p;
}

// Seconds `bytes` take at `bps`.
inline double At(double bytes, double bps) { return bytes * 8 / bps; }

// Each node's completion with the faults of `with_fault` minus without them (-1: failed), in the
// model `run` (RunChain, RunForest).
inline std::vector<double> Delays(const SimParams& with_fault, const std::function<SimResult(const SimParams&)>& run) {
  SimParams clean = with_fault;
  clean.kills.clear();
  clean.freezes.clear();
  SimResult a = run(with_fault), b = run(clean);
  std::vector<double> d;
  for (size_t i = 0; i < a.nodes.size(); ++i)
    d.push_back(a.nodes[i].failed ? -1 : a.nodes[i].done_s - b.nodes[i].done_s);
  return d;
}

}  // namespace ka::sim::simtest
