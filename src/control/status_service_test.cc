#include "control/status_service.h"

#include <gtest/gtest.h>

#include "control/session_recorder.h"

namespace ka::control {
namespace {

chain::Request Req(const std::string& op, const std::string& node = "", const std::string& command = "") {
  chain::Request r;
  r.op = op;
  r.node = node;
  r.command = command;
  return r;
}

Endpoint Peer() { return MakeEndpoint(htonl(0x0A000063), 5555); }  // 10.0.0.99

TEST(ControlStatusService, AnswersFromTheSessionRecord) {
  SessionState st("lab", "");
  SessionRecorder rec(st, nullptr);  // what the sender would report
  rec.SessionStarted("00000000000000ab", "disk.img", 1000);
  rec.NodeJoined("node1", "10.0.0.2");
  rec.NodeLog("node1", {"12:00:00.000 info  formatting p1"});
  chain::Sender sender(chain::SendOptions{}, &rec);
  StatusService svc(st, sender, false);
  auto snap = svc.Answer(Req("snapshot"), Peer());
  EXPECT_TRUE(snap["ok"].get<bool>());
  EXPECT_EQ(snap["snapshot"]["session_id"], "00000000000000ab");
  auto log = svc.Answer(Req("log", "node1"), Peer());
  ASSERT_TRUE(log["ok"].get<bool>()) << log.dump();
  ASSERT_FALSE(log["lines"].empty());
  EXPECT_EQ(log["lines"].back(), "12:00:00.000 info  formatting p1");
}

TEST(ControlStatusService, ExecIsRefusedWithoutAllowExecAndNoted) {
  SessionState st("lab", "");
  st.NodeJoined("node1", "10.0.0.2");
  chain::Sender sender(chain::SendOptions{}, nullptr);
  StatusService svc(st, sender, false);
  auto r = svc.Answer(Req("exec", "node1", "reboot"), Peer());
  EXPECT_FALSE(r["ok"].get<bool>());
  EXPECT_NE(r["error"].get<std::string>().find("--allow-exec"), std::string::npos);
  uint64_t next = 0;
  auto lines = st.Log("node1", 0, 100, &next);
  ASSERT_TRUE(lines.ok());
  ASSERT_FALSE(lines->empty());
  EXPECT_NE(lines->back().find("refused remote command from 10.0.0.99: reboot"), std::string::npos);
}

TEST(ControlStatusService, ExecForANodeNotConnectedSaysSo) {
  SessionState st("lab", "");
  chain::Sender sender(chain::SendOptions{}, nullptr);
  StatusService svc(st, sender, true);
  auto r = svc.Answer(Req("exec", "ghost", "true"), Peer());
  EXPECT_FALSE(r["ok"].get<bool>());
  EXPECT_EQ(r["error"], "no connected node named 'ghost'");
  EXPECT_FALSE(st.HasNode("ghost"));
}

}  // namespace
}  // namespace ka::control
