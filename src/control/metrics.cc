#include "control/metrics.h"

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "control/snapshot.h"

namespace ka::control {
namespace {

// Appends one valid UTF-8 sequence starting at s[i] (advancing i), or U+FFFD for a bad byte.
void CopyUtf8(std::string_view s, size_t& i, std::string& out) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  bool ok = len > 0 && i + len <= s.size();
  for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  if (ok && len > 1) {  // no overlong forms, no surrogates, nothing past U+10FFFF
    uint32_t cp = c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    ok = cp >= kMin[len] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
  }
  if (!ok) {
    out += "\xEF\xBF\xBD";
    ++i;
    return;
  }
  out.append(s.substr(i, len));
  i += len;
}

// One metric family: its HELP and TYPE lines, then its samples.
class Family {
 public:
  Family(std::string& out, const char* name, const char* type, const char* help) : out_(out), name_(name) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  // `labels` already rendered ("" or `a="x",b="y"`).
  void Sample(const std::string& labels, const std::string& value) {
    out_ += name_;
    if (!labels.empty()) out_ += "{" + labels + "}";
    out_ += " " + value + "\n";
  }
  // A number as the format writes it (integers exactly, others in the shortest form that reads
  // back the same); no sample when it is unknown.
  template <typename T>
  void Sample(const std::string& labels, std::optional<T> value) {
    if (value) Sample(labels, fmt::format("{}", *value));
  }

 private:
  std::string& out_;
  const char* name_;
};

std::string Label(const char* name, std::string_view value) {
  return fmt::format("{}=\"{}\"", name, EscapeLabelValue(value));
}

// The nodes to show, each with its rendered labels: node and address.
struct NodeRow {
  const NodeView* node;
  std::string labels;
};

std::vector<NodeRow> NodeRows(const SnapshotView& s) {
  std::vector<NodeRow> rows;
  std::set<std::string> seen;
  for (const NodeView& n : s.nodes) {
    std::string labels = Label("node", n.name) + "," + Label("address", n.address);
    if (seen.insert(labels).second) rows.push_back({&n, std::move(labels)});
  }
  return rows;
}

void SessionMetrics(const SnapshotView& s, const std::vector<NodeRow>& rows, std::string& out) {
  Family(out, "ka_session_info", "gauge", "The session: its name, id and phase (always 1).")
      .Sample(Label("session", s.session) + "," + Label("session_id", s.session_id) + "," + Label("phase", s.phase),
              "1");
  Family(out, "ka_session_elapsed_seconds", "gauge", "Seconds since the session started.").Sample("", s.elapsed);
  Family(out, "ka_session_sent_bytes_total", "counter", "Payload bytes the sender has sent into the chain.")
      .Sample("", s.sent_bytes);
  Family(out, "ka_session_total_bytes", "gauge", "Payload bytes of the whole stream (absent while unknown).")
      .Sample("", s.total_bytes);
  Family(out, "ka_session_throughput_bytes_per_second", "gauge",
         "The sender's rate at the last sample (absent before the first).")
      .Sample("", s.throughput_bps);
  Family(out, "ka_session_exec_enabled", "gauge", "1 when the session relays remote commands (ka exec).")
      .Sample("", s.exec_enabled ? "1" : "0");

  size_t joined = 0, done = 0, failed = 0;
  for (const auto& r : rows) {
    joined += r.node->state == "joined";
    done += r.node->done();
    failed += r.node->failed();
  }
  Family(out, "ka_session_nodes", "gauge", "Nodes the session knows (every node that joined).")
      .Sample("", std::to_string(rows.size()));
  Family(out, "ka_session_nodes_in_chain", "gauge", "Nodes in the chain now (a dropped node leaves it).")
      .Sample("", std::to_string(s.chain.size()));
  Family(out, "ka_session_nodes_joined", "gauge", "Nodes in state joined: joined, no work started yet.")
      .Sample("", std::to_string(joined));
  Family(out, "ka_session_nodes_done", "gauge", "Nodes done: the stream verified and every step finished.")
      .Sample("", std::to_string(done));
  Family(out, "ka_session_nodes_failed", "gauge", "Nodes that failed.").Sample("", std::to_string(failed));
}

void NodeMetrics(const std::vector<NodeRow>& rows, std::string& out) {
  Family bytes(out, "ka_node_bytes_total", "counter", "Payload bytes the node has received.");
  for (const auto& r : rows) bytes.Sample(r.labels, r.node->bytes);
  Family rate(out, "ka_node_rate_bytes_per_second", "gauge", "The node's receiving rate now (0 once final).");
  for (const auto& r : rows) rate.Sample(r.labels, r.node->rate_bps);
  Family eta(out, "ka_node_eta_seconds", "gauge",
             "Seconds to the end of the stream at the node's rate (absent when unknown).");
  for (const auto& r : rows) eta.Sample(r.labels, r.node->eta_s);
  Family position(out, "ka_node_position", "gauge", "The node's place in the chain, from 1 (absent when not placed).");
  for (const auto& r : rows)
    if (r.node->position != 0) position.Sample(r.labels, r.node->position);  // 0: not placed yet
  Family state(out, "ka_node_state", "gauge", "The node's current state (one series per node, always 1).");
  for (const auto& r : rows) state.Sample(r.labels + "," + Label("state", r.node->state), "1");
  Family done(out, "ka_node_done", "gauge", "1 when the node is done.");
  for (const auto& r : rows) done.Sample(r.labels, r.node->done() ? "1" : "0");
  Family failed(out, "ka_node_failed", "gauge", "1 when the node failed.");
  for (const auto& r : rows) failed.Sample(r.labels, r.node->failed() ? "1" : "0");
  Family updated(out, "ka_node_last_report_seconds", "gauge", "Session time (s) of the node's last report.");
  for (const auto& r : rows) updated.Sample(r.labels, r.node->updated);
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size();) {
    switch (value[i]) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        CopyUtf8(value, i, out);
        continue;
    }
    ++i;
  }
  return out;
}

std::string RenderMetrics(const nlohmann::json& snapshot) {
  // The values as the snapshot has them: its text unsanitized (escaped by Label), "" where text
  // is missing, its nodes in its order, a total of 0 as 0.
  SnapshotView s = ReadSnapshot(
      snapshot, {.raw_text = true, .unknown_text = "", .snapshot_order = true, .zero_total_unknown = false});
  std::string out;
  std::vector<NodeRow> rows = NodeRows(s);
  SessionMetrics(s, rows, out);
  NodeMetrics(rows, out);
  return out;
}

}  // namespace ka::control
