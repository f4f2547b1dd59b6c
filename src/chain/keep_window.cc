#include "chain/keep_window.h"

#include <algorithm>

namespace ka::chain {

std::vector<uint64_t> KeepPositions(const std::vector<KeepMember>& chain) {
  std::vector<uint64_t> keep(chain.size() + 1, kKeepNothing);
  for (size_t i = 0; i <= chain.size(); ++i)  // i: the first member downstream of the keeper
    for (size_t j = i; j < chain.size() && j < i + 2; ++j)
      if (!chain[j].branch_fed) keep[i] = std::min(keep[i], chain[j].received);
  return keep;
}

}  // namespace ka::chain
