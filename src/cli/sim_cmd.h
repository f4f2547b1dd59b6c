// `ka sim`: the scale simulator (src/sim/, docs/scale.md). Predicts a session's time to N nodes
// through ka's chains (laid out by the planner the sender uses, chain/topology.h) or a swarm, with
// faults, and prints a short table or one JSON object (--json). bench/scale_bench.sh calls it with
// the options below and compares with the bed: they are a contract (add, never rename).
//   ka sim --nodes N --size SIZE --link RATE [--uplink RATE] [--latency-ms X] [--mode chain|swarm|forest|auto]
//          [--chains K] [--max-chain L] [--buffer SIZE] [--sender-buffer SIZE] [--startup S]
//          [--kill I@T]... [--freeze I@T]... [--late I@T]... [--fail-rate P] [--seed N]
//          [--detect S] [--relink S] [--host-cores C] [--cpu-hop X] [--cpu-sender X] [--cpu-last X]
//          [--piece SIZE] [--swarm-startup S] [--swarm-efficiency E] [--stripes K] [--forest-headroom H] [--dt S]
//          [--no-splice] [--json] [--per-node]
// Exit status: 0 done, 2 bad options (the message names the option).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace ka::cli {

class SimCommand {
 public:
  explicit SimCommand(CLI::App& app);
  bool parsed() const;
  int Run();

 private:
  CLI::App* cmd_ = nullptr;
  // Every value is parsed here, not by CLI11, so that a bad one exits 2 naming its option.
  std::string nodes_, size_, link_, uplink_, latency_ms_ = "0.1", mode_ = "chain", chains_ = "0", max_chain_ = "0";
  std::string buffer_ = "128M", sender_buffer_ = "128M", startup_ = "0.5", fail_rate_ = "0", seed_ = "1";
  std::string detect_ = "1.5", control_rate_ = "400", relink_ = "0.01", host_cores_ = "0", cpu_hop_ = "1.2",
              cpu_sender_ = "1.05", cpu_last_ = "1.17";
  std::string piece_ = "4M", swarm_startup_ = "1.0", swarm_efficiency_ = "0.9", dt_ = "0";
  std::string stripes_ = "0", forest_headroom_ = "0";
  std::string wire_efficiency_ = "0.9415", hop_bytes_ = "1M", hop_polls_ = "2.74";
  std::vector<std::string> kills_, freezes_, lates_;
  bool json_ = false, per_node_ = false, splice_ = true;
};

}  // namespace ka::cli
