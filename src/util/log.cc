#include "util/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace ka {

void InitLogging(const std::string& role, bool verbose) {
  spdlog::drop("ka");
  auto logger = spdlog::stderr_color_mt("ka");
  logger->set_pattern("%H:%M:%S.%e %^%-5l%$ [" + role + "] %v");
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace ka
