// The server's record of a session, fed by the sender as things happen and
// read by the dashboard, `ka status` and the progress display: each node's
// state machine, bytes, rate, ETA, last message and full log, the chain
// order, and throughput over time. With a session directory it also keeps
// DIR/logs/<node>.log (every line a node sent) and DIR/report.json, private
// (directories 0700, files 0600: control/session_dir.h), and creates an empty
// DIR/server.log (0600) for the server's own log sink to append to.
#pragma once

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "control/session_view.h"
#include "util/fd.h"

namespace ka::control {

class SessionState : public SessionView {
 public:
  // `dir` empty: nothing is written to disk. Errors creating it are logged (and the
  // state kept in memory only); so is an existing `dir` that others may read.
  SessionState(std::string session, std::string dir);

  void SetInfo(const std::string& session_id, const std::string& source, std::optional<uint64_t> total);
  void SetPhase(const std::string& phase);
  void SetChain(const std::vector<std::string>& names);
  void SetExecEnabled(bool on);
  void SetSent(uint64_t bytes);  // sampled into the throughput history about once a second

  void NodeJoined(const std::string& name, const std::string& address);
  void NodePosition(const std::string& name, int position);
  void NodeState(const std::string& name, const std::string& state, const std::string& detail);
  void NodeBytes(const std::string& name, uint64_t bytes);
  void NodeFailed(const std::string& name, const std::string& error);
  void NodeDone(const std::string& name);
  void NodeLog(const std::string& name, const std::vector<std::string>& lines);
  // A server-side note about the node (also appended to its log).
  void NodeNote(const std::string& name, const std::string& line);

  nlohmann::json Snapshot() const override;
  Result<std::vector<std::string>> Log(const std::string& node, uint64_t from, size_t max,
                                       uint64_t* next) const override;
  bool HasNode(const std::string& name) const;

  // Writes DIR/report.json (no-op without a directory).
  void WriteReport(const nlohmann::json& report);
  const std::string& dir() const { return dir_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Node {
    std::string name, address, state = "joined", detail, error, last_message;
    int position = 0;
    uint64_t bytes = 0;
    double rate = 0;  // bytes/s, smoothed
    double updated = 0;
    uint64_t rate_bytes = 0;
    double rate_t = 0;
    std::vector<std::string> log;
    UniqueFd file;  // DIR/logs/NODE.log (0600), when there is a directory
  };
  double Now() const;
  Node& Get(const std::string& name);
  void Append(Node& n, const std::string& line);

  mutable std::mutex mu_;
  std::string session_, dir_, session_id_, source_, phase_ = "waiting";
  std::optional<uint64_t> total_;
  uint64_t sent_ = 0, sample_bytes_ = 0;
  double sample_t_ = 0;
  bool exec_enabled_ = false;
  std::vector<std::string> chain_;
  std::map<std::string, Node> nodes_;
  std::vector<std::pair<double, double>> throughput_;  // (t, bytes/s)
  Clock::time_point t0_ = Clock::now();
};

// "12:00:01.250 info  formatting p1" -> "formatting p1" (other lines as they are).
std::string MessageOf(const std::string& line);

// A default session directory: /var/log/ka/SESSION-YYYYmmdd-HHMMSS (UTC).
std::string DefaultSessionDir(const std::string& session);

}  // namespace ka::control
