#include "control/session_state.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/temp_dir_for_test.h"

namespace ka::control {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(ControlSessionState, SnapshotFollowsTheSession) {
  SessionState st("lab", "");
  st.SetInfo("00000000000000ab", "disk.img", 1000);
  st.NodeJoined("node2", "10.0.0.3");
  st.NodeJoined("node1", "10.0.0.2");
  st.NodePosition("node1", 1);
  st.NodePosition("node2", 2);
  st.SetChain({"node1", "node2"});
  st.SetPhase("streaming");
  st.NodeState("node1", "receiving", "");
  st.NodeBytes("node1", 400);
  st.NodeLog("node1", {"12:00:01.250 info  formatting partition 1"});
  st.NodeFailed("node2", "disk full");
  st.NodeState("node2", "receiving", "");  // failed is final
  nlohmann::json s = st.Snapshot();
  EXPECT_EQ(s["session"], "lab");
  EXPECT_EQ(s["session_id"], "00000000000000ab");
  EXPECT_EQ(s["phase"], "streaming");
  EXPECT_EQ(s["total_bytes"], 1000);
  EXPECT_EQ(s["chain"], nlohmann::json({"node1", "node2"}));
  ASSERT_EQ(s["nodes"].size(), 2u);
  EXPECT_EQ(s["nodes"][0]["name"], "node1");  // by position
  EXPECT_EQ(s["nodes"][0]["state"], "receiving");
  EXPECT_EQ(s["nodes"][0]["bytes"], 400);
  EXPECT_EQ(s["nodes"][0]["last_message"], "formatting partition 1");
  EXPECT_EQ(s["nodes"][1]["state"], "failed");
  EXPECT_EQ(s["nodes"][1]["error"], "disk full");
  for (const char* k : {"elapsed", "sent_bytes", "exec_enabled", "throughput"}) EXPECT_TRUE(s.contains(k)) << k;
  for (const char* k : {"address", "position", "detail", "rate_bps", "eta_s", "updated"})
    EXPECT_TRUE(s["nodes"][0].contains(k)) << k;
}

TEST(ControlSessionState, LogPagesAndUnknownNode) {
  SessionState st("lab", "");
  st.NodeJoined("n", "10.0.0.2");  // "[server] joined from 10.0.0.2" is line 0
  st.NodeLog("n", {"a", "b", "c"});
  uint64_t next = 0;
  auto r = st.Log("n", 1, 2, &next);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(next, 3u);
  r = st.Log("n", next, 10, &next);
  EXPECT_EQ(r.value(), (std::vector<std::string>{"c"}));
  EXPECT_EQ(next, 4u);
  EXPECT_TRUE(st.Log("n", 99, 10, &next)->empty());
  EXPECT_EQ(st.Log("ghost", 0, 10, &next).status().code(), Status::Code::kInvalid);
}

TEST(ControlSessionState, WritesNodeLogsAndTheReport) {
  char tmpl[] = "/tmp/ka-state-test.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = std::string(tmpl) + "/session";
  {
    SessionState st("lab", dir);
    st.NodeJoined("node/1", "10.0.0.2");  // a name that is not a file name
    st.NodeLog("node/1", {"12:00:01.250 info  hello"});
    st.NodeDone("node/1");
    st.WriteReport({{"ok", {"node/1"}}});
  }
  std::string log = ReadFile(dir + "/logs/node_1.log");
  EXPECT_NE(log.find("[server] joined from 10.0.0.2\n12:00:01.250 info  hello\n[server] done\n"), std::string::npos)
      << log;
  EXPECT_NE(ReadFile(dir + "/report.json").find("node/1"), std::string::npos);
  std::filesystem::remove_all(tmpl);
}

TEST(ControlSessionState, EverythingInTheSessionDirectoryIsPrivate) {
  crypto::TempDir t;
  crypto::ScopedUmask open_umask(0);
  const std::string dir = t / "ka/lab-1";
  {
    SessionState st("lab", dir);
    st.NodeJoined("node1", "10.0.0.2");
    st.NodeLog("node1", {"12:00:01.250 info  hello"});
    st.WriteReport({{"ok", {"node1"}}});
  }
  EXPECT_EQ(crypto::ModeOf(dir), 0700u);
  EXPECT_EQ(crypto::ModeOf(dir + "/logs"), 0700u);
  EXPECT_EQ(crypto::ModeOf(dir + "/server.log"), 0600u);  // made empty for the server's log sink
  EXPECT_EQ(crypto::ModeOf(dir + "/logs/node1.log"), 0600u);
  EXPECT_EQ(crypto::ModeOf(dir + "/report.json"), 0600u);
  EXPECT_NE(ReadFile(dir + "/logs/node1.log").find("hello"), std::string::npos);
}

TEST(ControlSessionState, MessageOfStripsTimeAndLevel) {
  EXPECT_EQ(MessageOf("12:00:01.250 info  formatting p1"), "formatting p1");
  EXPECT_EQ(MessageOf("12:00:01.250 warning the disk"), "the disk");
  EXPECT_EQ(MessageOf("[server] done"), "[server] done");
  EXPECT_EQ(MessageOf(""), "");
}

TEST(ControlSessionState, DefaultDirIsUnderVarLog) {
  std::string d = DefaultSessionDir("my lab/1");
  EXPECT_EQ(d.rfind("/var/log/ka/my_lab_1-", 0), 0u) << d;
}

}  // namespace
}  // namespace ka::control
