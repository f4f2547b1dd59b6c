#include "layout/layout.h"

namespace ka::layout {

std::string Where(const Partition& p, size_t index) {
  if (p.line > 0) return "desc line " + std::to_string(p.line);
  return "partition entry " + std::to_string(index + 1);
}

}  // namespace ka::layout
