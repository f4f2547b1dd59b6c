#include "control/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include "control/testing.h"

namespace ka::control {
namespace {

using nlohmann::json;
using testing::MalformedSnapshots;

// The lines of `text` that are samples of `name` (not its HELP or TYPE).
std::vector<std::string> Samples(const std::string& text, const std::string& name) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + "{", 0) == 0 || line.rfind(name + " ", 0) == 0) out.push_back(line);
  return out;
}

TEST(ControlMetrics, RendersASmallSessionExactly) {
  json s = json::parse(R"({"session": "lab", "session_id": "a1b2c3d4", "source": "clone of /srv/golden.img",
    "phase": "streaming", "elapsed": 12.5, "total_bytes": 1000, "sent_bytes": 600, "chain": ["n1"],
    "exec_enabled": true,
    "nodes": [
      {"name": "n1", "address": "10.0.0.2", "position": 1, "state": "receiving", "detail": "", "bytes": 600,
       "rate_bps": 120.5, "eta_s": 3.5, "error": "", "last_message": "", "updated": 12},
      {"name": "n2", "address": "10.0.0.3", "position": 2, "state": "failed", "detail": "", "bytes": 100,
       "rate_bps": 0, "eta_s": null, "error": "disk full", "last_message": "", "updated": 5.25}],
    "throughput": [{"t": 1.0, "bytes_per_s": 50}, {"t": 12.0, "bytes_per_s": 60.5}]})");
  const char* want = R"(# HELP ka_session_info The session: its name, id and phase (always 1).
# TYPE ka_session_info gauge
ka_session_info{session="lab",session_id="a1b2c3d4",phase="streaming"} 1
# HELP ka_session_elapsed_seconds Seconds since the session started.
# TYPE ka_session_elapsed_seconds gauge
ka_session_elapsed_seconds 12.5
# HELP ka_session_sent_bytes_total Payload bytes the sender has sent into the chain.
# TYPE ka_session_sent_bytes_total counter
ka_session_sent_bytes_total 600
# HELP ka_session_total_bytes Payload bytes of the whole stream (absent while unknown).
# TYPE ka_session_total_bytes gauge
ka_session_total_bytes 1000
# HELP ka_session_throughput_bytes_per_second The sender's rate at the last sample (absent before the first).
# TYPE ka_session_throughput_bytes_per_second gauge
ka_session_throughput_bytes_per_second 60.5
# HELP ka_session_exec_enabled 1 when the session relays remote commands (ka exec).
# TYPE ka_session_exec_enabled gauge
ka_session_exec_enabled 1
# HELP ka_session_nodes Nodes the session knows (every node that joined).
# TYPE ka_session_nodes gauge
ka_session_nodes 2
# HELP ka_session_nodes_in_chain Nodes in the chain now (a dropped node leaves it).
# TYPE ka_session_nodes_in_chain gauge
ka_session_nodes_in_chain 1
# HELP ka_session_nodes_joined Nodes in state joined: joined, no work started yet.
# TYPE ka_session_nodes_joined gauge
ka_session_nodes_joined 0
# HELP ka_session_nodes_done Nodes done: the stream verified and every step finished.
# TYPE ka_session_nodes_done gauge
ka_session_nodes_done 0
# HELP ka_session_nodes_failed Nodes that failed.
# TYPE ka_session_nodes_failed gauge
ka_session_nodes_failed 1
# HELP ka_node_bytes_total Payload bytes the node has received.
# TYPE ka_node_bytes_total counter
ka_node_bytes_total{node="n1",address="10.0.0.2"} 600
ka_node_bytes_total{node="n2",address="10.0.0.3"} 100
# HELP ka_node_rate_bytes_per_second The node's receiving rate now (0 once final).
# TYPE ka_node_rate_bytes_per_second gauge
ka_node_rate_bytes_per_second{node="n1",address="10.0.0.2"} 120.5
ka_node_rate_bytes_per_second{node="n2",address="10.0.0.3"} 0
# HELP ka_node_eta_seconds Seconds to the end of the stream at the node's rate (absent when unknown).
# TYPE ka_node_eta_seconds gauge
ka_node_eta_seconds{node="n1",address="10.0.0.2"} 3.5
# HELP ka_node_position The node's place in the chain, from 1 (absent when not placed).
# TYPE ka_node_position gauge
ka_node_position{node="n1",address="10.0.0.2"} 1
ka_node_position{node="n2",address="10.0.0.3"} 2
# HELP ka_node_state The node's current state (one series per node, always 1).
# TYPE ka_node_state gauge
ka_node_state{node="n1",address="10.0.0.2",state="receiving"} 1
ka_node_state{node="n2",address="10.0.0.3",state="failed"} 1
# HELP ka_node_done 1 when the node is done.
# TYPE ka_node_done gauge
ka_node_done{node="n1",address="10.0.0.2"} 0
ka_node_done{node="n2",address="10.0.0.3"} 0
# HELP ka_node_failed 1 when the node failed.
# TYPE ka_node_failed gauge
ka_node_failed{node="n1",address="10.0.0.2"} 0
ka_node_failed{node="n2",address="10.0.0.3"} 1
# HELP ka_node_last_report_seconds Session time (s) of the node's last report.
# TYPE ka_node_last_report_seconds gauge
ka_node_last_report_seconds{node="n1",address="10.0.0.2"} 12
ka_node_last_report_seconds{node="n2",address="10.0.0.3"} 5.25
)";
  EXPECT_EQ(RenderMetrics(s), want);
}

TEST(ControlMetrics, NoNodesStillHasEveryFamilyAndZeroCounts) {
  json s = json::parse(R"({"session": "lab", "session_id": "", "source": "", "phase": "waiting", "elapsed": 0.5,
    "total_bytes": null, "sent_bytes": 0, "chain": [], "exec_enabled": false, "nodes": [], "throughput": []})");
  std::string m = RenderMetrics(s);
  EXPECT_EQ(Samples(m, "ka_session_nodes"), std::vector<std::string>{"ka_session_nodes 0"});
  EXPECT_EQ(Samples(m, "ka_session_nodes_failed"), std::vector<std::string>{"ka_session_nodes_failed 0"});
  EXPECT_TRUE(Samples(m, "ka_session_total_bytes").empty()) << "unknown: no sample";
  EXPECT_TRUE(Samples(m, "ka_session_throughput_bytes_per_second").empty());
  EXPECT_TRUE(Samples(m, "ka_node_bytes_total").empty());
  EXPECT_TRUE(Samples(m, "ka_node_state").empty());
  EXPECT_NE(m.find("# TYPE ka_node_bytes_total counter\n"), std::string::npos);
  EXPECT_EQ(Samples(m, "ka_session_info"),
            std::vector<std::string>{R"(ka_session_info{session="lab",session_id="",phase="waiting"} 1)"});
}

TEST(ControlMetrics, EscapesOddNodeNames) {
  EXPECT_EQ(EscapeLabelValue("plain-node.1"), "plain-node.1");
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeLabelValue("n\xC3\xA9ud"), "n\xC3\xA9ud") << "valid UTF-8 kept";
  EXPECT_EQ(EscapeLabelValue("x\xFFy"), "x\xEF\xBF\xBDy") << "a bad byte becomes U+FFFD";
  EXPECT_EQ(EscapeLabelValue("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD") << "overlong";
  EXPECT_EQ(EscapeLabelValue("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD") << "surrogate";
  EXPECT_EQ(EscapeLabelValue("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD") << "cut short";

  json s = testing::ThreeNodeSnapshot();
  s["nodes"][0]["name"] = "evil\"} 1\nka_fake 2\\";
  s["nodes"][1]["name"] = std::string("bad\xFF");
  s["nodes"][2]["name"] = std::string("bad\xFE");  // the same labels once replaced: left out
  s["nodes"][2]["address"] = s["nodes"][1]["address"];
  std::string m = RenderMetrics(s);
  EXPECT_EQ(
      Samples(m, "ka_node_bytes_total"),
      (std::vector<std::string>{R"(ka_node_bytes_total{node="evil\"} 1\nka_fake 2\\",address="10.0.0.3"} 55000000)",
                                "ka_node_bytes_total{node=\"bad\xEF\xBF\xBD\",address=\"10.0.0.2\"} 60000000"}));
  EXPECT_EQ(m.find("\nka_fake"), std::string::npos) << "no line injected";
  EXPECT_EQ(Samples(m, "ka_session_nodes"), std::vector<std::string>{"ka_session_nodes 2"});
}

TEST(ControlMetrics, AFailedNodeCountsAndShowsItsState) {
  std::string m = RenderMetrics(testing::ThreeNodeSnapshot());
  EXPECT_EQ(Samples(m, "ka_session_nodes_failed"), std::vector<std::string>{"ka_session_nodes_failed 1"});
  EXPECT_EQ(Samples(m, "ka_session_nodes"), std::vector<std::string>{"ka_session_nodes 3"});
  auto failed = Samples(m, "ka_node_failed");
  ASSERT_EQ(failed.size(), 3u);
  EXPECT_EQ(failed[2], R"(ka_node_failed{node="node3",address="10.0.0.4"} 1)");
  EXPECT_EQ(Samples(m, "ka_node_state")[2], R"(ka_node_state{node="node3",address="10.0.0.4",state="failed"} 1)");
  EXPECT_EQ(m.find("disk full"), std::string::npos) << "the error text is not a label";
}

TEST(ControlMetrics, KeepsTheSnapshotsOrderTextAndAZeroTotal) {
  // What a terminal view shows otherwise: nodes out of position order, empty or missing text,
  // a control character in a name, a total of 0 (an empty stream), a node not placed yet.
  json s = json::parse(R"({"session": "", "phase": "streaming", "total_bytes": 0, "sent_bytes": 0, "chain": [],
    "nodes": [
      {"name": "b\u001b[31m", "address": "10.0.0.3", "position": 2, "state": "receiving", "bytes": 5},
      {"name": "a", "address": "", "position": 1, "state": "", "bytes": 7},
      {"address": "10.0.0.4", "position": 0, "bytes": 1}]})");
  std::string m = RenderMetrics(s);
  EXPECT_EQ(Samples(m, "ka_session_info"),
            std::vector<std::string>{R"(ka_session_info{session="",session_id="",phase="streaming"} 1)"});
  EXPECT_EQ(Samples(m, "ka_session_total_bytes"), std::vector<std::string>{"ka_session_total_bytes 0"});
  EXPECT_EQ(Samples(m, "ka_node_bytes_total"),
            (std::vector<std::string>{"ka_node_bytes_total{node=\"b\x1b[31m\",address=\"10.0.0.3\"} 5",
                                      R"(ka_node_bytes_total{node="a",address=""} 7)",
                                      R"(ka_node_bytes_total{node="",address="10.0.0.4"} 1)"}));
  EXPECT_EQ(Samples(m, "ka_node_position"),
            (std::vector<std::string>{"ka_node_position{node=\"b\x1b[31m\",address=\"10.0.0.3\"} 2",
                                      R"(ka_node_position{node="a",address=""} 1)"}))
      << "0: not placed";
  EXPECT_EQ(Samples(m, "ka_node_state")[1], R"(ka_node_state{node="a",address="",state=""} 1)");
  EXPECT_EQ(Samples(m, "ka_node_state")[2], R"(ka_node_state{node="",address="10.0.0.4",state=""} 1)");
}

TEST(ControlMetrics, ImpossibleNumbersLeaveTheirSampleOut) {
  json s = testing::ThreeNodeSnapshot();
  s["elapsed"] = -1;
  s["sent_bytes"] = 1.5;
  s["total_bytes"] = 1e300;
  s["throughput"].back()["bytes_per_s"] = std::nan("");
  s["nodes"][0]["bytes"] = -1;
  s["nodes"][0]["rate_bps"] = std::numeric_limits<double>::infinity();
  s["nodes"][0]["eta_s"] = -0.5;
  s["nodes"][0]["position"] = 0.5;
  s["nodes"][0]["updated"] = -std::numeric_limits<double>::infinity();
  std::string m = RenderMetrics(s);
  EXPECT_TRUE(Samples(m, "ka_session_elapsed_seconds").empty());
  EXPECT_EQ(Samples(m, "ka_session_sent_bytes_total"), std::vector<std::string>{"ka_session_sent_bytes_total 1"});
  EXPECT_TRUE(Samples(m, "ka_session_total_bytes").empty());
  EXPECT_TRUE(Samples(m, "ka_session_throughput_bytes_per_second").empty());
  for (const char* family : {"ka_node_bytes_total", "ka_node_rate_bytes_per_second", "ka_node_eta_seconds",
                             "ka_node_position", "ka_node_last_report_seconds"}) {
    auto samples = Samples(m, family);
    ASSERT_FALSE(samples.empty()) << family;
    EXPECT_EQ(samples[0].find("node2"), std::string::npos) << samples[0];
  }
}

TEST(ControlMetrics, MalformedSnapshotsNeverThrowAndStayWellFormed) {
  for (const json& s : MalformedSnapshots()) {
    std::string m;
    EXPECT_NO_THROW(m = RenderMetrics(s)) << s.dump();
    std::istringstream in(m);
    std::set<std::string> series;
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("# ", 0) == 0) continue;
      size_t sp = line.rfind(' ');
      ASSERT_NE(sp, std::string::npos) << line;
      EXPECT_TRUE(series.insert(line.substr(0, sp)).second) << "a doubled series: " << line;
    }
    EXPECT_FALSE(m.empty());
    EXPECT_EQ(m.back(), '\n');
  }
}

}  // namespace
}  // namespace ka::control
