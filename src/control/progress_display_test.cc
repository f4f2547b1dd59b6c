#include "control/progress_display.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "control/session_recorder.h"
#include "control/session_state.h"

namespace ka::control {
namespace {

std::string ReadAll(FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

// The recorder starts the display with the stream and stops it when every node
// has its verdict: the final state is printed once, nothing before the stream.
TEST(ControlProgressDisplay, DrawsFromTheStreamToItsEnd) {
  FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  SessionState st("lab", "");
  {
    ProgressDisplay display(st, out, 3600);
    SessionRecorder rec(st, &display);
    rec.SessionStarted("00000000000000ab", "disk.img", 1000);
    rec.NodeJoined("node1", "10.0.0.2");
    rec.NodePosition("node1", 1);
    EXPECT_EQ(ReadAll(out), "");
    rec.PhaseChanged("streaming");
    rec.NodeBytes("node1", 1000);
    rec.NodeDone("node1");
    rec.StreamFinished();
    std::string text = ReadAll(out);
    EXPECT_NE(text.find("node1"), std::string::npos) << text;
    rec.StreamFinished();  // a second stop prints nothing more
    EXPECT_EQ(ReadAll(out), text);
  }
  std::fclose(out);
}

TEST(ControlProgressDisplay, NeverStartedPrintsNothing) {
  FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  SessionState st("lab", "");
  {
    ProgressDisplay display(st, out, 0.01);
    display.Stop();
  }
  EXPECT_EQ(ReadAll(out), "");
  std::fclose(out);
}

}  // namespace
}  // namespace ka::control
