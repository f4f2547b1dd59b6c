// Table-driven checks of a string function (header only, for *_test.cc): one line a case,
// {input, expected}, instead of one EXPECT_EQ a case; a failure names the input.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace ka::testutil {

using StringCases = std::vector<std::pair<std::string, std::string>>;

// Expects fn(input) == expected for every case.
template <typename Fn>
void ExpectStringCases(Fn&& fn, const StringCases& cases) {
  for (const auto& [input, expected] : cases) EXPECT_EQ(fn(input), expected) << "input: \"" << input << "\"";
}

}  // namespace ka::testutil
