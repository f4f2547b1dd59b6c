// The JSON form of a described disk (ka describe --json): geometry, table and, per
// partition, both the desc fields and the exact sectors.
#pragma once

#include <string>

#include "layout/describe.h"

namespace ka::layout {

// Pretty-printed JSON; every key is always present (empty string: unknown).
std::string DescriptionJson(const Description& d);

}  // namespace ka::layout
