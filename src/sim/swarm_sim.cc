// The swarm model (`ka sim --mode swarm`): a BitTorrent-like swarm, the sender as the only seed,
// every node downloading from and uploading to the others, as a fluid (Qiu and Srikant, SIGCOMM
// 2004, with per-peer limits).
//
// Why this model: a swarm's speed is set by capacities, not by topology: each peer downloads at
// most its link, the seed uploads at most its uplink, and all downloads together are at most what
// the seed and the peers that hold something useful can upload. A fluid over those three
// constraints predicts a well-run swarm's completion time within its efficiency, which the bed
// calibrates (`--swarm-efficiency`, bench/ swarm benchmark with libtorrent).
//
// Every step of dt seconds:
//   union     bytes released by the seed (distinct pieces somewhere in the swarm) grow by
//             eff * uplink * dt (the seed sends each piece once before repeating any: rarest
//             first / super-seeding, idealised);
//   reachable a piece must be whole before a peer can pass it on, and spreads through the swarm
//             in about log2(N + 1) generations of piece / (eff * link) each: a peer can hold at
//             most union(t - D), D = ceil(log2(N + 1)) * piece / (eff * link);
//   demand    each active peer j: min(eff * link * dt, reachable - d_j, size - d_j);
//   supply    eff * dt * (uplink + link * the active peers holding anything: finished peers keep
//             seeding); when the demands exceed it, each is scaled by supply / demand. (Waiting
//             for a whole piece before uploading is the delay D above; counting only peers with a
//             whole piece as uploaders would make the seed's first bytes, spread evenly over N
//             peers, take N pieces' time to bootstrap: an artefact of the fluid.)
// Peers start after `--swarm-startup` (tracker, handshakes, first unchoke); late joiners that much
// after their T. A failure (kill or freeze alike) removes the peer: the others just stop asking
// it; nothing stalls. CPU: a peer costs --cpu-hop per GiB it downloads (it uploads about as much),
// the seed --cpu-sender per GiB it uploads, scaled as in the chain model with --host-cores.
//
// Where it is crude: no piece-level state (no rarest-first races, no endgame, no choking rounds:
// all folded into the efficiency); every peer can reach every other (the real peer set is ~50-200
// connections, and a swarm of 10,000 may need several hops for a piece: D grows as log N only);
// peers' useful upload is all-or-nothing (anything held); the union never shrinks when a peer
// holding a rare piece fails; the seed's control load is an estimate (HAVE messages from the
// peers connected to it).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "sim/sim.h"

namespace ka::sim {

SimResult RunSwarm(const SimParams& p) {
  auto t0 = std::chrono::steady_clock::now();
  const double eff = p.swarm_efficiency;
  const double size = p.size_bytes;
  const double link = p.link_bps / 8 * p.wire_efficiency;
  const double uplink = (p.uplink_bps > 0 ? p.uplink_bps : p.link_bps) / 8 * p.wire_efficiency;
  const int n = p.nodes;
  const auto un = static_cast<size_t>(n);
  const double dt = StepFor(p, p.swarm_startup_s + size / (eff * std::min(link, uplink)));
  const double spread = std::ceil(std::log2(n + 1.0)) * p.piece_bytes / (eff * link);
  const auto spread_steps = static_cast<size_t>(std::ceil(spread / dt));

  std::vector<double> d(un, 0), start(un, p.swarm_startup_s), fail_at(un, std::numeric_limits<double>::infinity());
  std::vector<double> done(un, -1), last_growth(un, 0), max_stall(un, 0), want(un, 0);
  std::vector<uint8_t> started(un, 0);
  for (const auto& e : p.lates) start[static_cast<size_t>(e.node - 1)] = p.swarm_startup_s + e.at;
  std::vector<NodeEvent> kills, freezes;
  DrawFailures(p, &kills, &freezes);
  for (auto* list : {&kills, &freezes})
    for (const auto& e : *list) {
      auto u = static_cast<size_t>(e.node - 1);
      fail_at[u] = std::min(fail_at[u], p.swarm_startup_s + e.at);
    }
  int remaining = 0;
  double last_start = 0;
  for (size_t u = 0; u < un; ++u)
    if (std::isinf(fail_at[u])) {
      ++remaining;
      last_start = std::max(last_start, start[u]);
    }

  std::vector<double> union_hist(spread_steps + 1, 0);  // the union at the last spread_steps steps
  double uni = 0, scale = 1, t = std::min(p.swarm_startup_s, *std::min_element(start.begin(), start.end()));
  int64_t step = 0;
  double last_move = t;
  while (remaining > 0 && t < 1e6) {
    double reachable = union_hist[static_cast<size_t>((step + 1) % static_cast<int64_t>(union_hist.size()))];  // oldest
    // The seed: new pieces into the swarm while any peer is active.
    int holders = 0, active = 0;
    double demand = 0;
    for (size_t u = 0; u < un; ++u) {
      want[u] = 0;
      if (t + 1e-9 < start[u] || t >= fail_at[u]) continue;
      ++active;
      if (d[u] > 0) ++holders;
      if (d[u] >= size) continue;
      want[u] = std::max(0.0, std::min({eff * link * dt * scale, reachable - d[u], size - d[u]}));
      demand += want[u];
    }
    if (active > 0) uni = std::min(size, uni + eff * uplink * dt * scale);
    double supply = eff * dt * scale * (uplink + link * holders);
    double f = demand > supply ? supply / demand : 1.0;
    double got = 0;
    bool moved = false;
    for (size_t u = 0; u < un; ++u) {
      if (want[u] <= 0) continue;
      double old = d[u], g = want[u] * f;
      d[u] = old + g;
      got += g;
      moved = true;
      if (started[u]) max_stall[u] = std::max(max_stall[u], t - last_growth[u]);
      started[u] = 1;
      last_growth[u] = t + dt;
      if (d[u] >= size - 1e-6) {
        d[u] = size;
        if (std::isinf(fail_at[u])) {
          done[u] = t + dt * (size - old) / g;
          --remaining;
        }
      }
    }
    // Failed peers that had finished before failing are not done: the KO stands.
    if (p.host_cores > 0 && got > 0) {
      double seed_bytes = std::min(got, uplink * dt * scale);
      double cores = (got * p.cpu_hop + seed_bytes * p.cpu_sender) / kGiB / dt;
      scale = std::min(1.0, scale * p.host_cores / cores);
    }
    t += dt;
    ++step;
    union_hist[static_cast<size_t>(step % static_cast<int64_t>(union_hist.size()))] = uni;
    if (moved || uni < size) last_move = t;
    if (t > last_start && t - last_move > spread + 1.0) break;  // nobody will move again
  }

  SimResult r;
  r.mode = "swarm";
  r.topology.chains = 0;
  r.topology.per_chain_bps = 0;
  r.topology.why = "swarm: every node downloads from the seed and from every other node";
  r.dt = dt;
  r.nodes.resize(un);
  for (size_t u = 0; u < un; ++u) {
    r.nodes[u].failed = !std::isinf(fail_at[u]);
    r.nodes[u].done_s = r.nodes[u].failed ? -1 : done[u];
    r.nodes[u].max_stall_s = max_stall[u];
  }
  // The last node to finish: its longest stall.
  double last = -1;
  for (size_t u = 0; u < un; ++u)
    if (!r.nodes[u].failed && r.nodes[u].done_s > last) {
      last = r.nodes[u].done_s;
      r.stall_s = max_stall[u];
    }
  // Each peer connected to the seed (libtorrent's default connections_limit: 200) sends it a HAVE
  // for every piece it completes, and the seed answers requests piece by piece.
  double peers = std::min(n, 200);
  r.sender_msgs_per_s = peers * eff * link / p.piece_bytes;
  r.sender_msgs_sent_per_s = eff * uplink / p.piece_bytes;
  Summarize(p, &r);
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace ka::sim
