#include "util/log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <atomic>
#include <sstream>
#include <thread>
#include <vector>

namespace ka {
namespace {

TEST(Log, SinksComeAndGoWhileOtherThreadsLog) {
  // ka serve adds a session's server.log while its streaming thread logs (it crashed in
  // spdlog when the logger's sink list was changed under a logging thread).
  InitLogging("test", false);
  spdlog::default_logger()->sinks().front()->set_level(spdlog::level::off);  // keep the test's output clean
  std::atomic<bool> stop{false};
  std::vector<std::thread> loggers;
  for (int t = 0; t < 3; ++t)
    loggers.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) LogInfo("thread {} line {}", t, i);
    });
  std::ostringstream seen;
  for (int i = 0; i < 2000; ++i) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(seen);
    AddLogSink(sink);
    RemoveLogSink(sink);
  }
  auto kept = std::make_shared<spdlog::sinks::ostream_sink_mt>(seen);
  kept->set_pattern("%v");
  AddLogSink(kept);
  LogInfo("kept sink sees this");
  RemoveLogSink(kept);
  LogInfo("but not this");
  stop = true;
  for (auto& t : loggers) t.join();
  EXPECT_NE(seen.str().find("kept sink sees this"), std::string::npos);
  EXPECT_EQ(seen.str().find("but not this"), std::string::npos);
  spdlog::default_logger()->sinks().front()->set_level(spdlog::level::trace);
}

}  // namespace
}  // namespace ka
