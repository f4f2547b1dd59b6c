#include "control/progress_view.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "control/snapshot.h"
#include "control/testing.h"
#include "control/text.h"

namespace ka::control {
namespace {

using nlohmann::json;
using testing::MemFile;
using testing::ThreeNodeSnapshot;

// The bar of a rendered node line ("[###...]"), or "" when there is none.
std::string BarOf(const std::string& line) {
  size_t open = line.find('[');
  size_t close = line.find(']', open);
  if (open == std::string::npos || close == std::string::npos) return "";
  return line.substr(open, close - open + 1);
}

size_t CountOf(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

// --- helpers ---------------------------------------------------------------------------------

// fn(text, columns) == want for each {text, columns, want}.
struct ColumnsCase {
  std::string_view text;
  size_t columns;
  std::string_view want;
};
void ExpectColumnsCases(std::string (*fn)(std::string_view, size_t), std::initializer_list<ColumnsCase> cases) {
  for (const ColumnsCase& c : cases) EXPECT_EQ(fn(c.text, c.columns), c.want) << '"' << c.text << "\", " << c.columns;
}

TEST(ControlProgressText, ColumnsCountCodePoints) {
  // é takes 2 bytes, 日本 6, 😀 is a 4-byte sequence.
  const std::pair<std::string_view, size_t> cases[] = {{"", 0}, {"node1", 5}, {"é", 1}, {"日本", 2}, {"a😀b", 3}};
  for (const auto& [text, columns] : cases) EXPECT_EQ(Columns(text), columns) << text;
}

TEST(ControlProgressText, TruncateNeverCutsACharacter) {
  ExpectColumnsCases(TruncateColumns, {{"café au lait", 4, "café"},
                                       {"café", 3, "caf"},
                                       {"日本語", 2, "日本"},
                                       {"日本語", 1, "日"},
                                       {"日本語", 0, ""},
                                       {"日本語", 3, "日本語"},
                                       {"日本語", 10, "日本語"},
                                       {"a😀b", 2, "a😀"}});
}

TEST(ControlProgressText, SanitizeRemovesControlsAndInvalidBytes) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"plain é 日本", "plain é 日本"},
      {"a\nb\tc\x1b[31md\x7f", "a b c [31md "},
      {"csi \xc2\x9b"
       "31m",
       "csi  31m"},                         // U+009B, the 8-bit CSI
      {"bad \x9b \xff \xc3", "bad ? ? ?"},  // stray, invalid, cut short
      {"\xe6\x97", "??"},                   // a 3-byte sequence cut short
      {"\xc0\xaf", "??"},                   // overlong '/'
      {"\xed\xa0\x80", "???"},              // a surrogate
  };
  for (const auto& [text, want] : cases) EXPECT_EQ(SanitizeText(text), want) << text;
}

TEST(ControlProgressText, Padding) {
  ExpectColumnsCases(PadRight, {{"é", 3, "é  "}, {"toolong", 3, "toolong"}});
  ExpectColumnsCases(PadLeft, {{"日本", 4, "  日本"}});
  ExpectColumnsCases(PadCenter, {{"ab", 6, "  ab  "}, {"ab", 5, " ab  "}});
}

TEST(ControlProgressFormat, Values) {
  EXPECT_EQ(FormatEta(3.5), "0:04");
  EXPECT_EQ(FormatEta(0), "0:00");
  EXPECT_EQ(FormatEta(754), "12:34");
  EXPECT_EQ(FormatEta(3723), "1:02:03");
  EXPECT_EQ(FormatEta(std::nullopt), "-");
  EXPECT_EQ(FormatEta(-1), "-");
  EXPECT_EQ(FormatElapsed(12.5), "12.5s");
  EXPECT_EQ(FormatElapsed(125), "2m05s");
  EXPECT_EQ(FormatElapsed(3725), "1h02m05s");
  EXPECT_EQ(FormatElapsed(std::nullopt), "-");
  EXPECT_EQ(FormatRate(1.2e8), "114.4 MiB/s");
  EXPECT_EQ(FormatRate(std::nullopt), "-");
  EXPECT_EQ(Percent(uint64_t{45}, uint64_t{100}), 45);
  EXPECT_EQ(Percent(uint64_t{999}, uint64_t{1000}), 99);  // 100% only when complete
  EXPECT_EQ(Percent(uint64_t{1000}, uint64_t{1000}), 100);
  EXPECT_EQ(Percent(uint64_t{2000}, uint64_t{1000}), 100);
  EXPECT_EQ(Percent(uint64_t{5}, std::nullopt), std::nullopt);
  EXPECT_EQ(Percent(std::nullopt, uint64_t{5}), std::nullopt);
}

TEST(ControlProgressSnapshot, ReadsNodesByPositionAndOverallIsTheSlowestLiveNode) {
  SnapshotView s = ReadSnapshot(ThreeNodeSnapshot());
  ASSERT_EQ(s.nodes.size(), 3u);
  EXPECT_EQ(s.nodes[0].name, "node1");
  EXPECT_EQ(s.nodes[1].name, "node2");
  EXPECT_EQ(s.nodes[2].name, "node3");
  EXPECT_EQ(s.OverallBytes(), 55000000u);  // node3 has less but failed
  EXPECT_EQ(s.FailedCount(), 1);
  EXPECT_EQ(s.throughput_bps, 1.15e8);
  EXPECT_EQ(s.nodes[2].Message(), "FAILED: disk full on /dev/sda2");
}

// --- RenderProgress ----------------------------------------------------------------------------

TEST(ControlProgressRender, GoldenBlockAtWidth100) {
  std::vector<std::string> expected = {
      "session lab  streaming  12.5s  overall 52.5 MiB / 117.7 MiB 44%  109.7 MiB/s  3 nodes, 1 failed",
      " 1 node1 extracting      [##########............]  48% 114.4 MiB/s eta  0:04  extracting /usr/lib",
      " 2 node2 receiving       [#########.............]  44% 104.9 MiB/s eta  0:01  receiving image",
      " 3 node3 failed          [#.....................]   8%           - eta     -  FAILED: disk full on /",
  };
  EXPECT_EQ(RenderProgress(ThreeNodeSnapshot(), 100), expected);
}

TEST(ControlProgressRender, GoldenBlockAtWidth120KeepsTheWholeReason) {
  auto lines = RenderProgress(ThreeNodeSnapshot(), 120);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3],
            " 3 node3 failed          [##..............................]   8%           - eta     -  "
            "FAILED: disk full on /dev/sda2");
}

TEST(ControlProgressRender, BarScalesWithWidth) {
  json snap = ThreeNodeSnapshot();
  // node1 has 48.6% of the total.
  struct Case {
    int width;
    std::string bar;
  };
  for (const Case& c : {Case{70, "[###....]"}, Case{80, "[#####.......]"}, Case{100, "[##########............]"},
                        Case{120, "[###############.................]"},
                        Case{200, "[########################..........................]"},  // capped at 50
                        Case{400, "[########################..........................]"}}) {
    auto lines = RenderProgress(snap, c.width);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(BarOf(lines[1]), c.bar) << "width " << c.width;
    // Every node's bar has the same size, so the columns after it line up.
    EXPECT_EQ(BarOf(lines[2]).size(), c.bar.size()) << "width " << c.width;
    EXPECT_EQ(lines[1].find('%'), lines[3].find('%')) << "width " << c.width;
    for (const auto& l : lines) EXPECT_LE(Columns(l), static_cast<size_t>(c.width)) << l;
  }
}

TEST(ControlProgressRender, NoBarWhenTooNarrowAndLinesNeverExceedWidth) {
  json snap = ThreeNodeSnapshot();
  auto lines = RenderProgress(snap, 60);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(BarOf(lines[1]), "");
  EXPECT_EQ(lines[1], " 1 node1 extracting       48% 114.4 MiB/s eta  0:04  extract");
  for (int width : {0, 1, 10, 20, 33, 59, 61, 79}) {
    for (const auto& l : RenderProgress(snap, width))
      EXPECT_LE(Columns(l), static_cast<size_t>(std::max(width, 20))) << "width " << width << ": " << l;
  }
}

TEST(ControlProgressRender, FullBarOnlyWhenComplete) {
  json snap = ThreeNodeSnapshot();
  snap["nodes"][1]["bytes"] = 123456789;
  snap["nodes"][1]["state"] = "done";
  snap["nodes"][0]["bytes"] = 123456788;
  auto lines = RenderProgress(snap, 100);
  EXPECT_EQ(BarOf(lines[1]), "[######################]");
  EXPECT_NE(lines[1].find(" 100% "), std::string::npos) << lines[1];
  EXPECT_EQ(BarOf(lines[2]), "[#####################.]");
  EXPECT_NE(lines[2].find("  99% "), std::string::npos) << lines[2];
}

TEST(ControlProgressRender, UnknownTotalShowsBytesInTheBar) {
  json snap = ThreeNodeSnapshot();
  snap["total_bytes"] = nullptr;
  auto lines = RenderProgress(snap, 100);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "session lab  streaming  12.5s  overall 52.5 MiB / ?  109.7 MiB/s  3 nodes, 1 failed");
  EXPECT_EQ(lines[1],
            " 1 node1 extracting      [       57.2 MiB       ]    - 114.4 MiB/s eta  0:04  extracting /usr/lib");
  EXPECT_EQ(lines[3].find('#'), std::string::npos);
  // Without room for a bar, the bytes take the percent's place.
  EXPECT_EQ(RenderProgress(snap, 60)[1], " 1 node1 extracting      57.2 MiB 114.4 MiB/s eta  0:04  ext");
}

TEST(ControlProgressRender, FailedNodesShowTheReason) {
  json snap = ThreeNodeSnapshot();
  snap["nodes"][0]["state"] = "failed";
  snap["nodes"][0]["error"] = "";
  snap["nodes"][0]["last_message"] = "connection reset by node3";
  auto lines = RenderProgress(snap, 160);
  EXPECT_NE(lines[2].find("  FAILED: connection reset by node3"), std::string::npos) << lines[2];
  EXPECT_NE(lines[0].find("3 nodes, 2 failed"), std::string::npos) << lines[0];
  // The overall progress is the one live node left.
  EXPECT_NE(lines[0].find("overall 57.2 MiB / 117.7 MiB 48%"), std::string::npos) << lines[0];
  snap["nodes"][0]["last_message"] = "";
  EXPECT_NE(RenderProgress(snap, 160)[2].find("FAILED: unknown error"), std::string::npos);
}

TEST(ControlProgressRender, Utf8TruncationKeepsWholeCharacters) {
  json snap = ThreeNodeSnapshot();
  snap["nodes"][1]["last_message"] = "écriture de 日本語のファイルとディレクトリ";
  // The message starts at column 79 (see GoldenBlockAtWidth100).
  auto line = [&](int width) { return RenderProgress(snap, width)[1]; };
  std::string prefix = " 1 node1 extracting      [##########............]  48% 114.4 MiB/s eta  0:04  ";
  EXPECT_EQ(line(100), prefix + "écriture de 日本語のファイルとデ");
  EXPECT_EQ(Columns(line(100)), 100u);
  // Cut just after "é" and just inside "日本".
  snap["nodes"][1]["last_message"] = "é日本";
  std::string at_width = line(100);
  EXPECT_EQ(at_width, prefix + "é日本");
  EXPECT_EQ(Columns(at_width), 81u);
  // The bar shrinks with the width, so cut against a fixed line instead.
  EXPECT_EQ(TruncateColumns(at_width, 79), prefix + "é");
  EXPECT_EQ(TruncateColumns(at_width, 80), prefix + "é日");
  // Names are counted in columns too.
  snap["nodes"][1]["name"] = "nœud-é";
  auto lines = RenderProgress(snap, 100);
  EXPECT_EQ(lines[1].substr(0, 12), " 1 nœud-é ");  // 6 columns, 8 bytes
  EXPECT_EQ(lines[2].find("node2  receiving"), 3u);  // padded to 6 columns
}

TEST(ControlProgressRender, ControlCharactersInMessagesAreNotPrinted) {
  json snap = ThreeNodeSnapshot();
  snap["nodes"][1]["last_message"] = "evil\x1b[2J\nsecond line\r";
  snap["nodes"][0]["name"] = "n\x1b]0;title\x07";
  for (const auto& l : RenderProgress(snap, 200)) {
    EXPECT_EQ(l.find('\x1b'), std::string::npos) << l;
    EXPECT_EQ(l.find('\n'), std::string::npos) << l;
    EXPECT_EQ(l.find('\r'), std::string::npos) << l;
    EXPECT_EQ(l.find('\x07'), std::string::npos) << l;
  }
}

TEST(ControlProgressRender, MalformedSnapshotsDoNotThrow) {
  for (const auto& snap : testing::MalformedSnapshots()) {
    for (int width : {0, 40, 100}) {
      std::vector<std::string> lines;
      EXPECT_NO_THROW(lines = RenderProgress(snap, width)) << snap.dump();
      ASSERT_FALSE(lines.empty());
      EXPECT_NO_THROW(RenderProgressLog(snap, width)) << snap.dump();
    }
  }
  EXPECT_EQ(RenderProgress(json(), 100),
            std::vector<std::string>{"session -  -  -  overall - / ?  -  0 nodes"});
  auto lines = RenderProgress(testing::MalformedSnapshots()[6], 100);
  ASSERT_EQ(lines.size(), 4u);  // the three node objects; the rest of the array is not nodes
  EXPECT_EQ(lines[1], " - - -               [           -            ]    -           - eta     -");
  EXPECT_EQ(lines[3], " - n -               [           -            ]    -           - eta     -");  // absurd values
}

TEST(ControlProgressRender, LogLines) {
  std::vector<std::string> expected = {
      "[  12.5s] session lab streaming overall 52.5 MiB / 117.7 MiB 44% 109.7 MiB/s 3 nodes, 1 failed",
      "[  12.5s] node1 extracting 48% 114.4 MiB/s eta 0:04 extracting /usr/lib",
      "[  12.5s] node2 receiving 44% 104.9 MiB/s eta 0:01 receiving image",
      "[  12.5s] node3 failed 8% FAILED: disk full on /dev/sda2",
  };
  EXPECT_EQ(RenderProgressLog(ThreeNodeSnapshot(), 120), expected);
  json snap = ThreeNodeSnapshot();
  snap["total_bytes"] = nullptr;
  snap.erase("elapsed");
  EXPECT_EQ(RenderProgressLog(snap, 120)[1],
            "[      -] node1 extracting 57.2 MiB 114.4 MiB/s eta 0:04 extracting /usr/lib");
  EXPECT_EQ(RenderProgressLog(ThreeNodeSnapshot(), 40)[1], "[  12.5s] node1 extracting 48% 114.4 MiB");
}

// --- ProgressPrinter ---------------------------------------------------------------------------

struct FakeClock {
  double t = 100;
  std::function<double()> Fn() {
    return [this] { return t; };
  }
};

// What a printer test draws with: a memory file, a fake clock, the 3-node snapshot.
class ControlProgressPrinter : public ::testing::Test {
 protected:
  MemFile mem;
  FakeClock clock;
  json snap = ThreeNodeSnapshot();
};

TEST_F(ControlProgressPrinter, IsTtyIsFalseForFilesAndNull) {
  EXPECT_FALSE(IsTty(mem.get()));
  EXPECT_FALSE(IsTty(nullptr));
  FILE* tmp = std::tmpfile();
  ASSERT_NE(tmp, nullptr);
  EXPECT_FALSE(IsTty(tmp));
  std::fclose(tmp);
}

TEST_F(ControlProgressPrinter, TtyRedrawsInPlace) {
  ProgressPrinter p(mem.get(), true, 0.5, clock.Fn());
  // No terminal behind a memstream: width falls back to 100, lines use 99 columns.
  std::vector<std::string> block = RenderProgress(snap, 99);
  std::string expected_block;
  for (const auto& l : block) expected_block += "\r\x1b[2K" + l + "\n";

  p.Update(snap);
  EXPECT_EQ(mem.Take(), expected_block);  // first draw: nothing to move over

  clock.t += 0.6;
  snap["elapsed"] = 13.1;
  p.Update(snap);
  std::string expected_redraw = "\x1b[4A";
  for (const auto& l : RenderProgress(snap, 99)) expected_redraw += "\r\x1b[2K" + l + "\n";
  EXPECT_EQ(mem.Take(), expected_redraw);
}

TEST_F(ControlProgressPrinter, TtyClearsLinesLeftWhenTheBlockShrinksAndGrows) {
  ProgressPrinter p(mem.get(), true, 0, clock.Fn());
  p.Update(snap);
  mem.Take();

  json smaller = snap;
  smaller["nodes"].erase(2);
  smaller["nodes"].erase(1);  // node2 alone: header + 1 line, 2 lines fewer
  p.Update(smaller);
  std::string out = mem.Take();
  auto lines = RenderProgress(smaller, 99);
  ASSERT_EQ(lines.size(), 2u);
  std::string expected = "\x1b[4A\r\x1b[2K" + lines[0] + "\n\r\x1b[2K" + lines[1] + "\n" +
                         "\r\x1b[2K\n\r\x1b[2K\n\x1b[2A";
  EXPECT_EQ(out, expected);

  // Back to 3 nodes: up over the 2 lines now on screen, 4 lines drawn, nothing to clear.
  p.Update(snap);
  out = mem.Take();
  EXPECT_EQ(out.rfind("\x1b[2A", 0), 0u) << out;
  EXPECT_EQ(CountOf(out, "\x1b[2K"), 4u);
  EXPECT_EQ(CountOf(out, "\n"), 4u);
  EXPECT_EQ(CountOf(out, "\x1b["), 5u);  // the one cursor-up and 4 clears
}

TEST_F(ControlProgressPrinter, TtyFinishReplacesTheLiveBlockOnce) {
  ProgressPrinter p(mem.get(), true, 10, clock.Fn());
  p.Update(snap);
  mem.Take();
  snap["phase"] = "done";
  p.Finish(snap);  // not throttled
  std::string out = mem.Take();
  EXPECT_EQ(out.rfind("\x1b[4A", 0), 0u);
  EXPECT_NE(out.find("session lab  done"), std::string::npos);
  clock.t += 100;
  p.Update(snap);
  p.Finish(snap);
  EXPECT_EQ(mem.Take(), "");  // the final block stays; nothing after it
}

TEST_F(ControlProgressPrinter, TtyThrottlesToTheInterval) {
  ProgressPrinter p(mem.get(), true, 1.0, clock.Fn());
  p.Update(snap);
  EXPECT_NE(mem.Take(), "");
  for (double dt : {0.1, 0.5, 0.99}) {
    clock.t = 100 + dt;
    p.Update(snap);
    EXPECT_EQ(mem.Take(), "") << dt;
  }
  clock.t = 101.0;
  p.Update(snap);
  EXPECT_NE(mem.Take(), "");
  clock.t = 101.5;
  p.Update(snap);
  EXPECT_EQ(mem.Take(), "");  // measured from the last draw, not the first
  clock.t = 102.0;
  p.Update(snap);
  EXPECT_NE(mem.Take(), "");
}

TEST_F(ControlProgressPrinter, LogModePrintsOnlyChangedLinesAndNoEscapes) {
  ProgressPrinter p(mem.get(), false, 1.0, clock.Fn());
  p.Update(snap);
  std::string expected;
  for (const auto& l : RenderProgressLog(snap, 120)) expected += l + "\n";
  EXPECT_EQ(mem.Take(), expected);

  // Throttled.
  clock.t += 0.5;
  snap["elapsed"] = 13.0;
  snap["nodes"][1]["bytes"] = 70000000;
  p.Update(snap);
  EXPECT_EQ(mem.Take(), "");

  // node1 moved on; node2 and the failed node3 did not, so only the header and node1.
  clock.t += 0.5;
  p.Update(snap);
  EXPECT_EQ(mem.Take(),
            "[  13.0s] session lab streaming overall 52.5 MiB / 117.7 MiB 44% 109.7 MiB/s 3 nodes, 1 failed\n"
            "[  13.0s] node1 extracting 56% 114.4 MiB/s eta 0:04 extracting /usr/lib\n");

  // Nothing changed but the time: nothing printed.
  clock.t += 5;
  snap["elapsed"] = 18.0;
  p.Update(snap);
  EXPECT_EQ(mem.Take(), "");

  // A header change alone prints the header alone.
  clock.t += 5;
  snap["throughput"].push_back({{"t", 18.0}, {"bytes_per_s", 0}});
  p.Update(snap);
  EXPECT_EQ(mem.Take(),
            "[  18.0s] session lab streaming overall 52.5 MiB / 117.7 MiB 44% 0.0 MiB/s 3 nodes, 1 failed\n");

  // A node that appears is printed; Finish prints everything once.
  clock.t += 5;
  snap["nodes"].push_back({{"name", "node4"}, {"position", 4}, {"state", "joined"}, {"bytes", 0}});
  p.Update(snap);
  std::string out = mem.Take();
  EXPECT_EQ(CountOf(out, "\n"), 2u) << out;
  EXPECT_NE(out.find("] node4 joined 0% - eta -\n"), std::string::npos) << out;
  snap["phase"] = "done";
  p.Finish(snap);
  out = mem.Take();
  EXPECT_EQ(CountOf(out, "\n"), 5u) << out;
  EXPECT_EQ(out.rfind("[  18.0s] session lab done ", 0), 0u) << out;
  p.Finish(snap);
  p.Update(snap);
  EXPECT_EQ(mem.Take(), "");

  EXPECT_EQ(mem.Text().find('\x1b'), std::string::npos);
}

TEST_F(ControlProgressPrinter, LogModeNeverEmitsEscapesEvenFromHostileText) {
  ProgressPrinter p(mem.get(), false, 0, clock.Fn());
  snap["nodes"][0]["last_message"] = "\x1b[2K\x1b[1A gone \xc2\x9b" "1A";
  snap["session"] = "\x1b]0;pwned\x07";
  p.Update(snap);
  p.Finish(snap);
  std::string out = mem.Text();
  EXPECT_FALSE(out.empty());
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
  EXPECT_EQ(out.find("\xc2\x9b"), std::string::npos);
  EXPECT_EQ(out.find('\r'), std::string::npos);
}

TEST_F(ControlProgressPrinter, MalformedSnapshotsDoNotThrow) {
  for (bool tty : {true, false}) {
    MemFile out;  // a file for each mode
    ProgressPrinter p(out.get(), tty, 0, clock.Fn());
    for (const auto& bad : testing::MalformedSnapshots()) {
      clock.t += 1;
      EXPECT_NO_THROW(p.Update(bad)) << bad.dump();
    }
    EXPECT_NO_THROW(p.Finish(json()));
    EXPECT_FALSE(out.Text().empty());
  }
}

TEST_F(ControlProgressPrinter, NullFileIsIgnored) {
  ProgressPrinter p(nullptr, false, 0);
  EXPECT_NO_THROW(p.Update(ThreeNodeSnapshot()));
  EXPECT_NO_THROW(p.Finish(ThreeNodeSnapshot()));
}

}  // namespace
}  // namespace ka::control
