#include "cli/sim_cmd.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ka::cli {
namespace {

// Parses `args` (after "ka") and runs `ka sim`: its exit status.
int RunSim(std::vector<std::string> args) {
  CLI::App app("ka");
  SimCommand sim(app);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  app.parse(reversed);
  return sim.parsed() ? sim.Run() : -1;
}

TEST(SimCommand, RunsTheContractsOptions) {
  EXPECT_EQ(RunSim({"sim",     "--nodes",
                    "4",       "--size",
                    "64M",     "--link",
                    "1gbit",   "--uplink",
                    "2.5gbit", "--mode",
                    "auto",    "--kill",
                    "2@0.1",   "--freeze",
                    "3@0.1",   "--late",
                    "4@0.2",   "--fail-rate",
                    "0",       "--seed",
                    "3",       "--latency-ms",
                    "0.2",     "--chains",
                    "0",       "--max-chain",
                    "2",       "--buffer",
                    "8M",      "--sender-buffer",
                    "16M",     "--startup",
                    "0.1",     "--detect",
                    "1.5",     "--relink",
                    "0.01",    "--host-cores",
                    "0",       "--cpu-hop",
                    "1.2",     "--cpu-sender",
                    "1.05",    "--cpu-last",
                    "1.17",    "--piece",
                    "1M",      "--swarm-startup",
                    "0.5",     "--swarm-efficiency",
                    "0.8",     "--dt",
                    "0.002",   "--json"}),
            0);
}

TEST(SimCommand, JsonHasTheContractsFields) {
  testing::internal::CaptureStdout();
  int rc = RunSim({"sim", "--nodes", "20", "--size", "256M", "--link", "1gbit", "--uplink", "2gbit", "--mode", "auto",
                   "--fail-rate", "0.1", "--seed", "5", "--json"});
  std::string out = testing::internal::GetCapturedStdout();
  ASSERT_EQ(rc, 0);
  auto j = nlohmann::json::parse(out);
  for (const char* key : {"mode", "chosen", "chains", "lengths", "total_s", "mean_s", "p99_s", "stall_s", "ideal_s",
                          "ratio", "survivors", "failed", "sender_msgs_per_s", "chain", "swarm"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["mode"], "auto");
  EXPECT_EQ(j["chain"]["chains"], 2);
  EXPECT_EQ(j["chain"]["lengths"], nlohmann::json::parse("[10, 10]"));
  EXPECT_EQ(j["chain"]["failed"], 2);
  EXPECT_EQ(j["chain"]["survivors"], 18);
  EXPECT_EQ(j["swarm"]["failed"], 2);
  EXPECT_DOUBLE_EQ(j["chain"]["sender_msgs_per_s"].get<double>(), 88.0);  // 20 nodes x 4 + 2 heads x 4
  std::string faster = j["chain"]["total_s"].get<double>() <= j["swarm"]["total_s"].get<double>() ? "chain" : "swarm";
  EXPECT_EQ(j["chosen"], faster);
  EXPECT_EQ(j["total_s"], j[faster]["total_s"]);
}

TEST(SimCommand, BadOptionsExitTwo) {
  std::vector<std::string> base = {"sim", "--nodes", "4", "--size", "64M", "--link", "1gbit"};
  auto with = [&](std::vector<std::string> extra) {
    auto a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  EXPECT_EQ(RunSim({"sim", "--size", "64M", "--link", "1gbit"}), 2);  // no --nodes
  EXPECT_EQ(RunSim(with({"--uplink", "10gbps"})), 2);
  EXPECT_EQ(RunSim({"sim", "--nodes", "4", "--size", "lots", "--link", "1gbit"}), 2);
  EXPECT_EQ(RunSim(with({"--mode", "mesh"})), 2);
  EXPECT_EQ(RunSim(with({"--kill", "5@1"})), 2);  // node 5 of 4
  EXPECT_EQ(RunSim(with({"--fail-rate", "x"})), 2);
  EXPECT_EQ(RunSim(with({"--swarm-efficiency", "0"})), 2);
  EXPECT_EQ(RunSim(with({"--host-cores", "1.5"})), 2);
}

}  // namespace
}  // namespace ka::cli
