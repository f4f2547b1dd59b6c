// Logging to stderr through spdlog: "HH:MM:SS.mmm level [role] message".
// stdout stays free for data (`ka receive -`) and for summaries.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace ka {

// Sets the role shown in every line ("send", "node3") and the verbosity.
void InitLogging(const std::string& role, bool verbose);

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
