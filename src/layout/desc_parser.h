// Reads desc files (the seed's "linux 3500" lines plus ka's key=value extension) into
// a Layout; every error names the desc line and what is wrong with it.
#pragma once

#include <string>

#include "layout/layout.h"
#include "util/status.h"

namespace ka::layout {

// Parses desc text. Only the syntax of each line is checked here; the rules that
// relate lines to each other and to a disk live in validate.h and plan.h.
Result<Layout> ParseDesc(const std::string& text);

// Parses one size as a desc writes it: "3500", "500M", "20GiB", "2T", "614400s", "50%", "fill".
Result<SizeSpec> ParseSizeSpec(const std::string& token);

// What attribute values a desc accepts (describe drops values that fail these).
bool IsValidFsType(const std::string& s);  // ext4, vfat, crypto_LUKS: [A-Za-z0-9_.-]{1,32}
bool IsValidFsUuid(const std::string& s);  // hex digits and dashes, 4 to 36 characters
bool IsValidText(const std::string& s);    // non-empty, no control characters (labels, names)

}  // namespace ka::layout
