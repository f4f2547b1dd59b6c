#include "chain/report.h"

#include <gtest/gtest.h>

namespace ka::chain {
namespace {

SessionReport TwoNodes(int second_chain) {
  SessionReport r;
  r.session = "lab";
  for (int i = 1; i <= 2; ++i) {
    NodeReport n;
    n.name = "node" + std::to_string(i);
    n.position = i;
    n.chain = i == 2 ? second_chain : 1;
    n.ok = true;
    r.nodes.push_back(n);
  }
  return r;
}

TEST(Report, ChainColumnOnlyWithSeveralChains) {
  std::string one = TwoNodes(1).SummaryText();
  EXPECT_EQ(one.find("chain"), std::string::npos) << one;
  std::string two = TwoNodes(2).SummaryText();
  EXPECT_NE(two.find("chain  node"), std::string::npos) << two;
  EXPECT_NE(two.find("    2  node2"), std::string::npos) << two;
  EXPECT_EQ(TwoNodes(2).ToJson()["nodes"][1]["chain"], 2);
}

}  // namespace
}  // namespace ka::chain
