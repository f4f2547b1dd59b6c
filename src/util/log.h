// Logging to stderr through spdlog: "HH:MM:SS.mmm level [role] message".
// stdout stays free for data (`ka receive -`) and for summaries.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace ka {

// Sets the role shown in every line ("send", "node3") and the verbosity.
void InitLogging(const std::string& role, bool verbose);

// More destinations for every log line (a session's server.log, a node's log
// shipping), added and removed safely while other threads log: the logger's own
// sink list is never changed after InitLogging (spdlog does not lock it).
void AddLogSink(std::shared_ptr<spdlog::sinks::sink> sink);
void RemoveLogSink(const std::shared_ptr<spdlog::sinks::sink>& sink);

template <typename... Args>
void LogInfo(spdlog::format_string_t<Args...> f, Args&&... a) {
  spdlog::info(f, std::forward<Args>(a)...);
}
template <typename... Args>
void LogWarn(spdlog::format_string_t<Args...> f, Args&&... a) {
  spdlog::warn(f, std::forward<Args>(a)...);
}
template <typename... Args>
void LogError(spdlog::format_string_t<Args...> f, Args&&... a) {
  spdlog::error(f, std::forward<Args>(a)...);
}
template <typename... Args>
void LogDebug(spdlog::format_string_t<Args...> f, Args&&... a) {
  spdlog::debug(f, std::forward<Args>(a)...);
}

}  // namespace ka
