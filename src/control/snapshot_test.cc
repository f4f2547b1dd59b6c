#include "control/snapshot.h"

#include <gtest/gtest.h>

#include "control/testing.h"

namespace ka::control {
namespace {

using nlohmann::json;

// Nodes out of position order, one without a position, hostile and empty text, a total of 0.
json OddSnapshot() {
  return json::parse(R"({"session": "lab\u001b[2J", "session_id": "", "phase": 3, "total_bytes": 0,
    "chain": ["n\u0007", 5],
    "nodes": [
      {"name": "late", "address": "10.0.0.9", "state": "joined"},
      {"name": "two\u001b[31m", "address": "10.0.0.3", "position": 2, "state": "receiving", "bytes": -4,
       "last_message": "bell\u0007"},
      "not a node",
      {"name": "", "address": 7, "position": 1, "state": ""}]})");
}

std::vector<std::string> Names(const SnapshotView& s) {
  std::vector<std::string> names;
  for (const auto& n : s.nodes) names.push_back(n.name);
  return names;
}

TEST(ControlSnapshot, ByDefaultTextIsSanitizedAndNodesAreByPosition) {
  SnapshotView s = ReadSnapshot(OddSnapshot());
  EXPECT_EQ(s.session, "lab [2J");
  EXPECT_EQ(s.session_id, "") << "an empty session text stays empty";
  EXPECT_EQ(s.phase, kUnknown);
  EXPECT_EQ(s.source, kUnknown);
  EXPECT_EQ(s.chain, (std::vector<std::string>{"n ", kUnknown}));
  EXPECT_EQ(s.total_bytes, std::nullopt) << "0 is unknown";
  EXPECT_EQ(Names(s), (std::vector<std::string>{kUnknown, "two [31m", "late"})) << "no position: last";
  EXPECT_EQ(s.nodes[0].address, kUnknown);
  EXPECT_EQ(s.nodes[0].state, kUnknown);
  EXPECT_EQ(s.nodes[1].last_message, "bell ");
  EXPECT_EQ(s.nodes[1].bytes, std::nullopt);
}

TEST(ControlSnapshot, RawTextKeepsTheBytesAndNothingElseChanges) {
  SnapshotView s = ReadSnapshot(OddSnapshot(), {.raw_text = true});
  EXPECT_EQ(s.session, "lab\x1b[2J");
  EXPECT_EQ(s.session_id, "");
  EXPECT_EQ(s.phase, kUnknown) << "the placeholder as before";
  EXPECT_EQ(s.chain, (std::vector<std::string>{"n\a", kUnknown}));
  EXPECT_EQ(s.total_bytes, std::nullopt);
  EXPECT_EQ(Names(s), (std::vector<std::string>{kUnknown, "two\x1b[31m", "late"}));
  EXPECT_EQ(s.nodes[0].address, kUnknown);
  EXPECT_EQ(s.nodes[1].last_message, "bell\a");
  EXPECT_EQ(s.nodes[1].bytes, std::nullopt) << "numbers are checked in every mode";

  json bad = testing::ThreeNodeSnapshot();
  bad["nodes"][0]["name"] = std::string("x\xFFy");
  EXPECT_EQ(ReadSnapshot(bad, {.raw_text = true}).nodes[1].name, "x\xFFy");
  EXPECT_EQ(ReadSnapshot(bad).nodes[1].name, "x?y");
}

TEST(ControlSnapshot, OptionsForAReaderWithItsOwnFormat) {
  SnapshotView s = ReadSnapshot(
      OddSnapshot(), {.raw_text = true, .unknown_text = "", .snapshot_order = true, .zero_total_unknown = false});
  EXPECT_EQ(s.phase, "");
  EXPECT_EQ(s.source, "");
  EXPECT_EQ(s.chain, (std::vector<std::string>{"n\a", ""}));
  EXPECT_EQ(s.total_bytes, 0u);
  EXPECT_EQ(Names(s), (std::vector<std::string>{"late", "two\x1b[31m", ""})) << "as listed, non-objects left out";
  EXPECT_EQ(s.nodes[2].address, "");
  EXPECT_EQ(s.nodes[2].state, "");
  EXPECT_EQ(s.nodes[2].position, 1);
  EXPECT_EQ(s.nodes[0].position, std::nullopt);

  SnapshotView known = ReadSnapshot(testing::ThreeNodeSnapshot(), {.zero_total_unknown = false});
  EXPECT_EQ(known.total_bytes, 123456789u);
}

TEST(ControlSnapshot, MalformedSnapshotsDoNotThrowInAnyMode) {
  for (const json& j : testing::MalformedSnapshots()) {
    EXPECT_NO_THROW(ReadSnapshot(j)) << j.dump();
    EXPECT_NO_THROW(
        ReadSnapshot(j, {.raw_text = true, .unknown_text = "", .snapshot_order = true, .zero_total_unknown = false}))
        << j.dump();
  }
}

}  // namespace
}  // namespace ka::control
