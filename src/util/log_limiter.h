// LogLimiter: keeps floods readable. Lets at most `burst` log lines of one
// kind through per `window` seconds and counts the rest, so the next line that
// passes can say how many were left out ("... and 312 more like it").
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace ka {

class LogLimiter {
 public:
  explicit LogLimiter(int burst = 5, double window_s = 10) : burst_(burst), window_(window_s) {}
  // True when this line should be logged; then *suppressed is how many lines
  // of this kind were left out since the last one that passed.
  bool Allow(const std::string& kind, uint64_t* suppressed);
  // The same, for a clock the caller gives (tests).
  bool AllowAt(const std::string& kind, std::chrono::steady_clock::time_point now, uint64_t* suppressed);

 private:
  struct Kind {
    std::chrono::steady_clock::time_point window_start{};
    int passed = 0;
    uint64_t dropped = 0;
  };
  int burst_;
  double window_;
  std::mutex mu_;
  std::map<std::string, Kind> kinds_;
};

}  // namespace ka
