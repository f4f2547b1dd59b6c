#include "control/metrics.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <vector>

namespace ka::control {
namespace {

using nlohmann::json;

const json* Field(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string Text(const json& object, const char* key) {
  const json* v = Field(object, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

// A number as the format writes it: integers exactly, other values in the shortest form that
// reads back the same; NaN and the infinities as the format spells them.
std::optional<std::string> Number(const json& object, const char* key) {
  const json* v = Field(object, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_unsigned()) return std::to_string(v->get<uint64_t>());
  if (v->is_number_integer()) return std::to_string(v->get<int64_t>());
  if (!v->is_number_float()) return std::nullopt;
  double d = v->get<double>();
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", d);
}

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

 private:
  std::string& out_;
  const char* name_;
};

std::string Label(const char* name, std::string_view value) {
  return fmt::format("{}=\"{}\"", name, EscapeLabelValue(value));
}

// The nodes to show, each with its rendered labels: node and address.
struct NodeRow {
  const json* node;
  std::string labels;
};

std::vector<NodeRow> NodeRows(const json& snapshot) {
  std::vector<NodeRow> rows;
  const json* nodes = Field(snapshot, "nodes");
  if (nodes == nullptr || !nodes->is_array()) return rows;
  std::set<std::string> seen;
  for (const json& n : *nodes) {
    if (!n.is_object()) continue;
    std::string labels = Label("node", Text(n, "name")) + "," + Label("address", Text(n, "address"));
    if (!seen.insert(labels).second) continue;
    rows.push_back({&n, labels});
  }
  return rows;
}

void SessionMetrics(const json& s, const std::vector<NodeRow>& rows, std::string& out) {
  Family(out, "ka_session_info", "gauge", "The session: its name, id and phase (always 1).")
      .Sample(Label("session", Text(s, "session")) + "," + Label("session_id", Text(s, "session_id")) + "," +
                  Label("phase", Text(s, "phase")),
              "1");
  Family elapsed(out, "ka_session_elapsed_seconds", "gauge", "Seconds since the session started.");
  if (auto v = Number(s, "elapsed")) elapsed.Sample("", *v);
  Family sent(out, "ka_session_sent_bytes_total", "counter", "Payload bytes the sender has sent into the chain.");
  if (auto v = Number(s, "sent_bytes")) sent.Sample("", *v);
  Family total(out, "ka_session_total_bytes", "gauge", "Payload bytes of the whole stream (absent while unknown).");
  if (auto v = Number(s, "total_bytes")) total.Sample("", *v);
  Family rate(out, "ka_session_throughput_bytes_per_second", "gauge",
              "The sender's rate at the last sample (absent before the first).");
  if (const json* tp = Field(s, "throughput"); tp != nullptr && tp->is_array() && !tp->empty())
    if (auto v = Number(tp->back(), "bytes_per_s")) rate.Sample("", *v);
  const json* exec = Field(s, "exec_enabled");
  Family(out, "ka_session_exec_enabled", "gauge", "1 when the session relays remote commands (ka exec).")
      .Sample("", exec != nullptr && exec->is_boolean() && exec->get<bool>() ? "1" : "0");

  size_t joined = 0, done = 0, failed = 0;
  for (const auto& r : rows) {
    std::string state = Text(*r.node, "state");
    joined += state == "joined";
    done += state == "done";
    failed += state == "failed";
  }
  const json* chain = Field(s, "chain");
  Family(out, "ka_session_nodes", "gauge", "Nodes the session knows (every node that joined).")
      .Sample("", std::to_string(rows.size()));
  Family(out, "ka_session_nodes_in_chain", "gauge", "Nodes in the chain now (a dropped node leaves it).")
      .Sample("", std::to_string(chain != nullptr && chain->is_array() ? chain->size() : 0));
  Family(out, "ka_session_nodes_joined", "gauge", "Nodes in state joined: joined, no work started yet.")
      .Sample("", std::to_string(joined));
  Family(out, "ka_session_nodes_done", "gauge", "Nodes done: the stream verified and every step finished.")
      .Sample("", std::to_string(done));
  Family(out, "ka_session_nodes_failed", "gauge", "Nodes that failed.").Sample("", std::to_string(failed));
}

void NodeMetrics(const std::vector<NodeRow>& rows, std::string& out) {
  Family bytes(out, "ka_node_bytes_total", "counter", "Payload bytes the node has received.");
  for (const auto& r : rows)
    if (auto v = Number(*r.node, "bytes")) bytes.Sample(r.labels, *v);
  Family rate(out, "ka_node_rate_bytes_per_second", "gauge", "The node's receiving rate now (0 once final).");
  for (const auto& r : rows)
    if (auto v = Number(*r.node, "rate_bps")) rate.Sample(r.labels, *v);
  Family eta(out, "ka_node_eta_seconds", "gauge",
             "Seconds to the end of the stream at the node's rate (absent when unknown).");
  for (const auto& r : rows)
    if (auto v = Number(*r.node, "eta_s")) eta.Sample(r.labels, *v);
  Family position(out, "ka_node_position", "gauge", "The node's place in the chain, from 1 (absent when not placed).");
  for (const auto& r : rows)
    if (auto v = Number(*r.node, "position"); v && *v != "0") position.Sample(r.labels, *v);
  Family state(out, "ka_node_state", "gauge", "The node's current state (one series per node, always 1).");
  for (const auto& r : rows) state.Sample(r.labels + "," + Label("state", Text(*r.node, "state")), "1");
  Family done(out, "ka_node_done", "gauge", "1 when the node is done.");
  for (const auto& r : rows) done.Sample(r.labels, Text(*r.node, "state") == "done" ? "1" : "0");
  Family failed(out, "ka_node_failed", "gauge", "1 when the node failed.");
  for (const auto& r : rows) failed.Sample(r.labels, Text(*r.node, "state") == "failed" ? "1" : "0");
  Family updated(out, "ka_node_last_report_seconds", "gauge", "Session time (s) of the node's last report.");
  for (const auto& r : rows)
    if (auto v = Number(*r.node, "updated")) updated.Sample(r.labels, *v);
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
  std::string out;
  std::vector<NodeRow> rows = NodeRows(snapshot);
  SessionMetrics(snapshot, rows, out);
  NodeMetrics(rows, out);
  return out;
}

}  // namespace ka::control
