#include "util/log.h"

#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace ka {

namespace {
// The second sink of the "ka" logger: a locked list of the extra destinations.
std::shared_ptr<spdlog::sinks::dist_sink_mt>& Extra() {
  static std::shared_ptr<spdlog::sinks::dist_sink_mt> extra;
  return extra;
}
}  // namespace

void InitLogging(const std::string& role, bool verbose) {
  spdlog::drop("ka");
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  if (!Extra()) Extra() = std::make_shared<spdlog::sinks::dist_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("ka", spdlog::sinks_init_list{console, Extra()});
  // The console sink (first) gets the role; the extra sinks keep their own patterns.
  console->set_pattern("%H:%M:%S.%e %^%-5l%$ [" + role + "] %v");
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  spdlog::register_logger(logger);
  spdlog::set_default_logger(logger);
}

void AddLogSink(std::shared_ptr<spdlog::sinks::sink> sink) {
  if (!Extra()) {  // InitLogging not called (unit tests): attach the list once, before any thread
    Extra() = std::make_shared<spdlog::sinks::dist_sink_mt>();
    spdlog::default_logger()->sinks().push_back(Extra());
  }
  Extra()->add_sink(std::move(sink));
}

void RemoveLogSink(const std::shared_ptr<spdlog::sinks::sink>& sink) {
  if (Extra()) Extra()->remove_sink(sink);
}

}  // namespace ka
