#include "chain/bottleneck.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ka::chain {
namespace {

constexpr size_t kMaxSamples = 64;  // per node: a window of history is a few beats

bool Finite(const HeldCounters& h) {
  return std::isfinite(h.output) && std::isfinite(h.child) && std::isfinite(h.keep) && h.output >= 0 && h.child >= 0 &&
         h.keep >= 0;
}

double Clamp01(double v) { return std::clamp(v, 0.0, 1.0); }

}  // namespace

const char* HoldCauseName(HoldCause c) { return c == HoldCause::kOutput ? "output" : "link"; }

BottleneckJudge::BottleneckJudge(double window_s, double share) : window_s_(window_s), share_(share) {}

uint64_t BottleneckJudge::SenderOf(size_t chain) { return std::numeric_limits<uint64_t>::max() - chain; }

void BottleneckJudge::Observe(uint64_t node, double t, const HeldCounters& held) {
  if (!std::isfinite(t) || !Finite(held)) return;
  auto& s = samples_[node];
  if (!s.empty()) {
    const Sample& last = s.back();
    if (t <= last.t || held.output < last.held.output || held.child < last.held.child || held.keep < last.held.keep)
      s.clear();
  }
  s.push_back({t, held});
  // Keep the newest sample at least a window older than this one, and everything after it.
  while (s.size() > 2 && s[1].t <= t - window_s_) s.pop_front();
  while (s.size() > kMaxSamples) s.pop_front();
}

void BottleneckJudge::Forget(uint64_t node) { samples_.erase(node); }

BottleneckJudge::Share BottleneckJudge::ShareOf(uint64_t node, double now) const {
  Share r;
  auto it = samples_.find(node);
  if (it == samples_.end() || it->second.size() < 2) return r;
  const Sample& last = it->second.back();
  const Sample* first = nullptr;
  for (const auto& s : it->second)
    if (&s != &last && s.t <= last.t - window_s_) first = &s;
  if (!first) return r;
  double span = last.t - first->t;
  if (!(span >= window_s_ && span > 0) || !std::isfinite(span)) return r;  // huge times lose their digits
  if (now - last.t > 2 * std::max(window_s_, span)) return r;              // it stopped reporting: no opinion
  r.known = true;
  r.window = span;
  r.output = Clamp01((last.held.output - first->held.output) / span);
  r.child = Clamp01((last.held.child - first->held.child) / span);
  r.keep = Clamp01((last.held.keep - first->held.keep) / span);
  return r;
}

std::vector<HoldVerdict> BottleneckJudge::Judge(size_t chain, const std::vector<uint64_t>& members, double now) const {
  std::vector<HoldVerdict> out;
  for (size_t k = 0; k < members.size(); ++k) {
    Share own = ShareOf(members[k], now);
    if (!own.known) continue;
    if (own.output >= share_) {
      out.push_back({members[k], HoldCause::kOutput, own.output, own.window});
      continue;
    }
    // Its parent waited on what comes after it (its child, or the window kept for the node after
    // the child: the keep cursor follows link beats, a beat late), and not because its own ring was
    // full: then someone after it holds, and is judged in turn.
    Share parent = ShareOf(k == 0 ? SenderOf(chain) : members[k - 1], now);
    double waited = std::min(1.0, parent.child + parent.keep);
    if (parent.known && waited >= share_ && own.output + own.child + own.keep < share_ / 2)
      out.push_back({members[k], HoldCause::kLink, waited, parent.window});
  }
  return out;
}

}  // namespace ka::chain
