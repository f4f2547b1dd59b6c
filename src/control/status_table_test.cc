#include "control/status_table.h"

#include <gtest/gtest.h>

#include <sstream>

#include "control/testing.h"
#include "control/text.h"

namespace ka::control {
namespace {

using nlohmann::json;
using testing::ThreeNodeSnapshot;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

json FinishedSnapshot() {
  json snap = ThreeNodeSnapshot();
  snap["phase"] = "done";
  for (int i : {0, 1}) {
    snap["nodes"][i]["state"] = "done";
    snap["nodes"][i]["bytes"] = 123456789;
    snap["nodes"][i]["last_message"] = "finished";
    snap["nodes"][i]["eta_s"] = nullptr;
  }
  snap["nodes"][1]["updated"] = 1.2;  // node1: 98.1 MiB/s from bytes over time
  snap["nodes"][0]["updated"] = 0;    // node2: no time, so its rate
  return snap;
}

TEST(ControlTable, GoldenStatusTable) {
  EXPECT_EQ(RenderStatusTable(ThreeNodeSnapshot()),
            "session 'lab' (a1b2c3d4): clone of /srv/golden.img\n"
            "phase streaming, elapsed 12.5s, sent 57.2 MiB of 117.7 MiB\n"
            "chain: sender -> node1 -> node2 -> node3\n"
            "#  node   address   state           progress         rate   eta  last message\n"
            "1  node1  10.0.0.2  extracting  48% 57.2 MiB  114.4 MiB/s  0:04  extracting /usr/lib\n"
            "2  node2  10.0.0.3  receiving   44% 52.5 MiB  104.9 MiB/s  0:01  receiving image\n"
            "3  node3  10.0.0.4  failed       8% 10.0 MiB            -     -  FAILED: disk full on /dev/sda2\n");
}

TEST(ControlTable, UnknownTotalAndExec) {
  json snap = ThreeNodeSnapshot();
  snap["total_bytes"] = nullptr;
  snap["exec_enabled"] = true;
  auto lines = Lines(RenderStatusTable(snap));
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[1], "phase streaming, elapsed 12.5s, sent 57.2 MiB of ?, exec enabled");
  EXPECT_EQ(lines[4], "1  node1  10.0.0.2  extracting  57.2 MiB  114.4 MiB/s  0:04  extracting /usr/lib");
}

TEST(ControlTable, LinesStayWithin160ColumnsAndCutWholeCharacters) {
  json snap = ThreeNodeSnapshot();
  std::string long_message;
  for (int i = 0; i < 40; ++i) long_message += "日本é ";
  snap["nodes"][1]["last_message"] = long_message;
  snap["nodes"][0]["name"] = std::string(100, 'n');
  snap["source"] = std::string(300, 's');
  auto lines = Lines(RenderStatusTable(snap));
  ASSERT_EQ(lines.size(), 7u);
  for (const auto& l : lines) EXPECT_LE(Columns(l), kStatusTableWidth) << l;
  EXPECT_EQ(Columns(lines[4]), kStatusTableWidth);
  EXPECT_EQ(SanitizeText(lines[4]), lines[4]);  // still valid UTF-8
  // Names are cut at 32 columns; the message column starts after them.
  EXPECT_NE(lines[5].find(std::string(32, 'n') + "  10.0.0.3"), std::string::npos) << lines[5];
  EXPECT_EQ(lines[5].find(std::string(33, 'n')), std::string::npos);
}

TEST(ControlTable, GoldenFinalSummary) {
  EXPECT_EQ(RenderFinalSummary(FinishedSnapshot()),
            "session 'lab' (a1b2c3d4): 117.7 MiB from clone of /srv/golden.img in 12.5s, phase done\n"
            "#  node   address   result      bytes  MiB/s  detail\n"
            "1  node1  10.0.0.2  OK      117.7 MiB   98.1  finished\n"
            "2  node2  10.0.0.3  OK      117.7 MiB  104.9  finished\n"
            "3  node3  10.0.0.4  KO       10.0 MiB    2.0  disk full on /dev/sda2\n"
            "OK 2 / KO 1 of 3 nodes\n");
}

TEST(ControlTable, FinalSummaryCountsUnfinishedNodesAsKo) {
  auto lines = Lines(RenderFinalSummary(ThreeNodeSnapshot()));
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_NE(lines[2].find("  KO  "), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("not finished (extracting)"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[5], "OK 0 / KO 3 of 3 nodes");
}

TEST(ControlTable, MalformedSnapshotsDoNotThrow) {
  for (const auto& snap : testing::MalformedSnapshots()) {
    EXPECT_NO_THROW(RenderStatusTable(snap)) << snap.dump();
    EXPECT_NO_THROW(RenderFinalSummary(snap)) << snap.dump();
    // An absurd value does not push the columns off the screen.
    auto lines = Lines(RenderStatusTable(snap));
    ASSERT_GE(lines.size(), 4u);
    EXPECT_NE(lines[3].find("  eta  last message"), std::string::npos) << lines[3];
    for (const auto& l : lines) EXPECT_LE(Columns(l), 100u) << l;
  }
  EXPECT_EQ(RenderStatusTable(json()),
            "session '-' (-): -\n"
            "phase -, elapsed -, sent - of ?\n"
            "chain: sender\n"
            "#  node  address  state  progress  rate  eta  last message\n");
  EXPECT_EQ(RenderFinalSummary(json::array()),
            "session '-' (-): - from - in -, phase -\n"
            "#  node  address  result  bytes  MiB/s  detail\n"
            "OK 0 / KO 0 of 0 nodes\n");
  // Mistyped fields show as "-".
  json snap = ThreeNodeSnapshot();
  snap["nodes"][1]["bytes"] = "lots";
  snap["nodes"][1]["rate_bps"] = nullptr;
  snap["nodes"][1]["eta_s"] = "soon";
  snap["nodes"][1]["address"] = 10;
  snap["nodes"][1]["position"] = false;
  auto lines = Lines(RenderStatusTable(snap));
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[6], "-  node1  -         extracting             -            -     -  extracting /usr/lib");
}

}  // namespace
}  // namespace ka::control
