// ErrorOf: the message of a Result that must have failed (header only, for *_test.cc), so that
// a test checks an expected error in one line; a success is a test failure.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "util/status.h"

namespace ka::testutil {

// The error's message; "" and a failed expectation when `r` holds a value.
template <typename T>
std::string ErrorOf(const Result<T>& r) {
  EXPECT_FALSE(r.ok()) << "succeeded where an error was expected";
  return r.ok() ? std::string() : r.status().message();
}

}  // namespace ka::testutil
