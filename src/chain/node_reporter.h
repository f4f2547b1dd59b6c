// What a node tells the server besides its stream position: its state
// machine (joined, partitioning, formatting, receiving, extracting,
// individualising, drivers, bootloader, done, failed) and its log lines. Any
// thread may report; the receiver's main loop sends what is queued with its
// heartbeats (STATUS and LOG messages), so reporting never blocks on the network.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "util/log.h"

namespace ka::chain {

class NodeReporter {
 public:
  void State(const std::string& state, const std::string& detail = {});
  // A timed step of this node's work (seconds), reported in DONE: "individualise",
  // "initramfs", "bootloader", ... ("stream" is measured by the receiver itself).
  void Phase(const std::string& name, double seconds);
  std::map<std::string, double> Phases() const;
  void Log(std::string line);

  struct Pending {
    bool has_state = false;
    std::string state, detail;
    std::vector<std::string> lines;
  };
  // Takes what is queued (the receiver sends it).
  Pending Take();
  std::string state() const;

 private:
  mutable std::mutex mu_;
  bool has_state_ = false;
  std::string state_ = "joined", detail_;
  std::deque<std::string> lines_;
  std::map<std::string, double> phases_;
  size_t dropped_ = 0;
};

// Sends every log line of this process to `reporter` as well, until the returned
// sink is removed (RemoveLogSink).
std::shared_ptr<spdlog::sinks::sink> ForwardLogs(std::shared_ptr<NodeReporter> reporter);

}  // namespace ka::chain
