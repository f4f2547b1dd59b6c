#include "control/session_state.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "control/session_dir.h"
#include "util/file.h"
#include "util/log.h"

namespace ka::control {

namespace {

// A node name as a file name: anything but [A-Za-z0-9._-] becomes '_'.
std::string FileName(const std::string& name) {
  std::string f;
  for (char c : name) f += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-') ? c : '_';
  if (f.empty() || f[0] == '.') f = "_" + f;
  return f;
}

}  // namespace

std::string DefaultSessionDir(const std::string& session) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return "/var/log/ka/" + FileName(session) + "-" + buf;
}

SessionState::SessionState(std::string session, std::string dir) : session_(std::move(session)), dir_(std::move(dir)) {
  if (dir_.empty()) return;
  std::string warning;
  Status s = PrepareSessionDir(dir_, &warning);
  if (!s.ok()) {
    LogWarn("cannot create the session directory {}: {}; node logs are kept in memory only", dir_, s.message());
    dir_.clear();
    return;
  }
  if (!warning.empty()) LogWarn("{}", warning);
}

double SessionState::Now() const { return std::chrono::duration<double>(Clock::now() - t0_).count(); }

SessionState::Node& SessionState::Get(const std::string& name) {
  auto it = nodes_.find(name);
  if (it != nodes_.end()) return it->second;
  Node& n = nodes_[name];
  n.name = name;
  n.updated = Now();
  if (!dir_.empty()) {
    auto fd = OpenPrivateAppend(dir_ + "/logs/" + FileName(name) + ".log");
    if (fd.ok()) {
      n.file = std::move(fd).value();
    } else {
      LogWarn("cannot write the node's log: {}", fd.status().message());
    }
  }
  return n;
}

// A node's log line without its "HH:MM:SS.mmm level " prefix: the message.
std::string MessageOf(const std::string& line) {
  if (line.size() < 14 || line[2] != ':' || line[5] != ':' || line[8] != '.' || line[12] != ' ') return line;
  size_t i = 13;
  while (i < line.size() && std::isalpha(static_cast<unsigned char>(line[i]))) ++i;
  while (i < line.size() && line[i] == ' ') ++i;
  return line.substr(i);
}

void SessionState::Append(Node& n, const std::string& line) {
  n.log.push_back(line);
  n.last_message = MessageOf(line);
  if (n.file.valid()) {
    const std::string out = line + "\n";
    size_t off = 0;
    while (off < out.size()) {  // one write for a whole line unless it is huge
      ssize_t w = ::write(n.file.get(), out.data() + off, out.size() - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        LogWarn("cannot write {}/logs/{}.log: {}; its lines are kept in memory only", dir_, FileName(n.name),
                std::strerror(errno));
        n.file.reset();
        break;
      }
      off += static_cast<size_t>(w);
    }
  }
}

void SessionState::SetInfo(const std::string& session_id, const std::string& source, std::optional<uint64_t> total) {
  std::lock_guard l(mu_);
  session_id_ = session_id;
  source_ = source;
  total_ = total;
}

void SessionState::SetPhase(const std::string& phase) {
  std::lock_guard l(mu_);
  phase_ = phase;
}

void SessionState::SetChain(const std::vector<std::string>& names) {
  std::lock_guard l(mu_);
  chain_ = names;
}

void SessionState::SetExecEnabled(bool on) {
  std::lock_guard l(mu_);
  exec_enabled_ = on;
}

void SessionState::SetSent(uint64_t bytes) {
  std::lock_guard l(mu_);
  sent_ = bytes;
  double now = Now();
  if (now - sample_t_ >= 1.0) {
    double rate = sample_t_ > 0 || sample_bytes_ > 0 ? static_cast<double>(bytes - sample_bytes_) / (now - sample_t_) : 0;
    if (phase_ == "streaming" || phase_ == "finishing") throughput_.emplace_back(now, rate);
    if (throughput_.size() > 3600) throughput_.erase(throughput_.begin());
    sample_t_ = now;
    sample_bytes_ = bytes;
  }
}

void SessionState::NodeJoined(const std::string& name, const std::string& address) {
  std::lock_guard l(mu_);
  Node& n = Get(name);
  n.address = address;
  n.state = "joined";
  n.updated = Now();
  Append(n, "[server] joined from " + address);
}

void SessionState::NodePosition(const std::string& name, int position) {
  std::lock_guard l(mu_);
  Get(name).position = position;
}

void SessionState::NodeState(const std::string& name, const std::string& state, const std::string& detail) {
  std::lock_guard l(mu_);
  Node& n = Get(name);
  if (n.state == "failed" || n.state == "done") return;  // final
  n.state = state;
  n.detail = detail;
  n.updated = Now();
}

void SessionState::NodeBytes(const std::string& name, uint64_t bytes) {
  std::lock_guard l(mu_);
  Node& n = Get(name);
  double now = Now();
  if (bytes != n.bytes) n.updated = now;
  n.bytes = bytes;
  double dt = now - n.rate_t;
  if (dt >= 1.0) {
    double inst = static_cast<double>(bytes - std::min(bytes, n.rate_bytes)) / dt;
    n.rate = n.rate_t == 0 ? inst : 0.5 * n.rate + 0.5 * inst;
    n.rate_t = now;
    n.rate_bytes = bytes;
  }
}

void SessionState::NodeFailed(const std::string& name, const std::string& error) {
  std::lock_guard l(mu_);
  Node& n = Get(name);
  n.state = "failed";
  n.error = error;
  n.rate = 0;
  n.updated = Now();
  Append(n, "[server] FAILED: " + error);
}

void SessionState::NodeDone(const std::string& name) {
  std::lock_guard l(mu_);
  Node& n = Get(name);
  n.state = "done";
  n.rate = 0;
  n.updated = Now();
  Append(n, "[server] done");
}

void SessionState::NodeLog(const std::string& name, const std::vector<std::string>& lines) {
  std::lock_guard l(mu_);
  Node& n = Get(name);
  for (const auto& line : lines) Append(n, line);
}

void SessionState::NodeNote(const std::string& name, const std::string& line) {
  std::lock_guard l(mu_);
  Append(Get(name), "[server] " + line);
}

bool SessionState::HasNode(const std::string& name) const {
  std::lock_guard l(mu_);
  return nodes_.count(name) > 0;
}

nlohmann::json SessionState::Snapshot() const {
  std::lock_guard l(mu_);
  nlohmann::json nodes = nlohmann::json::array();
  std::vector<const Node*> order;
  for (const auto& [_, n] : nodes_) order.push_back(&n);
  std::sort(order.begin(), order.end(), [](const Node* a, const Node* b) {
    if (a->position != b->position) return a->position < b->position;
    return a->name < b->name;
  });
  for (const Node* n : order) {
    nlohmann::json eta = nullptr;
    bool moving = n->state != "done" && n->state != "failed";
    if (moving && total_ && n->rate > 1 && *total_ >= n->bytes)
      eta = static_cast<double>(*total_ - n->bytes) / n->rate;
    nodes.push_back({{"name", n->name},
                     {"address", n->address},
                     {"position", n->position},
                     {"state", n->state},
                     {"detail", n->detail},
                     {"bytes", n->bytes},
                     {"rate_bps", moving ? n->rate : 0.0},
                     {"eta_s", eta},
                     {"error", n->error},
                     {"last_message", n->last_message},
                     {"updated", n->updated}});
  }
  nlohmann::json tp = nlohmann::json::array();
  for (const auto& [t, r] : throughput_) tp.push_back({{"t", t}, {"bytes_per_s", r}});
  return {{"session", session_},
          {"session_id", session_id_},
          {"source", source_},
          {"phase", phase_},
          {"elapsed", Now()},
          {"total_bytes", total_ ? nlohmann::json(*total_) : nlohmann::json(nullptr)},
          {"sent_bytes", sent_},
          {"chain", chain_},
          {"exec_enabled", exec_enabled_},
          {"nodes", nodes},
          {"throughput", tp}};
}

Result<std::vector<std::string>> SessionState::Log(const std::string& node, uint64_t from, size_t max,
                                                   uint64_t* next) const {
  std::lock_guard l(mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return Status::Invalid("no node named '" + node + "' in this session");
  const auto& log = it->second.log;
  std::vector<std::string> out;
  uint64_t i = std::min<uint64_t>(from, log.size());
  for (; i < log.size() && out.size() < max; ++i) out.push_back(log[i]);
  if (next) *next = i;
  return out;
}

void SessionState::WriteReport(const nlohmann::json& report) {
  std::lock_guard l(mu_);
  if (dir_.empty()) return;
  Status s = WriteFileAtomic(dir_ + "/report.json", report.dump(2) + "\n", 0600);
  if (!s.ok()) LogWarn("cannot write {}/report.json: {}", dir_, s.message());
}

}  // namespace ka::control
