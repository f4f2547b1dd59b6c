// Writes a Layout as desc text that ParseDesc reads back to the same Layout; a
// layout that uses only the seed's features comes out exactly in the seed's form.
#pragma once

#include <string>

#include "layout/layout.h"

namespace ka::layout {

// One line per partition, preceded by "label ..." when the table is GPT, has an id,
// or the layout said so. Attributes follow the size in a fixed order.
std::string WriteDesc(const Layout& layout);

// "3500", "20GiB", "2TiB", "614400s", "50%", "fill" (a bare number is MiB, as in the seed).
std::string FormatSizeSpec(const SizeSpec& s);
// Like FormatSizeSpec, but MiB carry their unit ("1MiB"): used for start=.
std::string FormatStartSpec(const SizeSpec& s);

}  // namespace ka::layout
