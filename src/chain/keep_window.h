// How far back each member of the chain must keep data (docs/protocol.md,
// replay window): if its child fails, the grandchild resumes from this
// member's window, so a member keeps from the least position received by the
// next two members downstream. A member fed directly from the source (a
// branch) never needs a neighbour's window. The sender is told nothing: it
// applies the result for position 0 to its own ring.
#pragma once

#include <cstdint>
#include <vector>

namespace ka::chain {

struct KeepMember {
  uint64_t received = 0;    // stream position the member has reached
  bool branch_fed = false;  // fed from the source directly
};

inline constexpr uint64_t kKeepNothing = UINT64_MAX;

// For the members of the chain in order: element 0 is what the sender must
// keep, element i+1 what chain[i] must keep; kKeepNothing when nobody
// downstream can need it.
std::vector<uint64_t> KeepPositions(const std::vector<KeepMember>& chain);

// The same rule for one member, from its child's link beat (docs/protocol.md §6): the child's
// position and, when the child has a child of its own, the least of the two.
inline uint64_t KeepForChild(uint64_t child, bool has_grandchild, uint64_t grandchild) {
  return has_grandchild && grandchild < child ? grandchild : child;
}

}  // namespace ka::chain
