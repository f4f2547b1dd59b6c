#include "chain/keep_window.h"

#include <gtest/gtest.h>

namespace ka::chain {
namespace {

TEST(KeepWindow, EachKeeperCoversTheNextTwoMembers) {
  // sender -> a(100) -> b(50) -> c(70)
  std::vector<uint64_t> want = {50, 50, 70, kKeepNothing};
  EXPECT_EQ(KeepPositions({{100, false}, {50, false}, {70, false}}), want);
}

TEST(KeepWindow, BranchFedMembersNeedNoWindow) {
  // b is fed from the source: nobody keeps anything for it.
  std::vector<uint64_t> want = {100, 70, 70, kKeepNothing};
  EXPECT_EQ(KeepPositions({{100, false}, {50, true}, {70, false}}), want);
  EXPECT_EQ(KeepPositions({{5, true}}), (std::vector<uint64_t>{kKeepNothing, kKeepNothing}));
}

TEST(KeepWindow, EmptyChainKeepsNothing) {
  EXPECT_EQ(KeepPositions({}), std::vector<uint64_t>{kKeepNothing});
}

}  // namespace
}  // namespace ka::chain
