// Test helpers for the control views (header-only, used by *_test.cc only).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ka::control::testing {

// A 3-node session mid-stream: node1 ahead, node2 behind, node3 failed; listed out of order.
inline nlohmann::json ThreeNodeSnapshot() {
  return nlohmann::json::parse(R"({
    "session": "lab", "session_id": "a1b2c3d4", "source": "clone of /srv/golden.img", "phase": "streaming",
    "elapsed": 12.5, "total_bytes": 123456789, "sent_bytes": 60000000,
    "chain": ["node1", "node2", "node3"], "exec_enabled": false,
    "nodes": [
      {"name": "node2", "address": "10.0.0.3", "position": 2, "state": "receiving", "detail": "",
       "bytes": 55000000, "rate_bps": 1.1e8, "eta_s": 0.63, "error": "", "last_message": "receiving image",
       "updated": 12.4},
      {"name": "node1", "address": "10.0.0.2", "position": 1, "state": "extracting", "detail": "",
       "bytes": 60000000, "rate_bps": 1.2e8, "eta_s": 3.5, "error": "", "last_message": "extracting /usr/lib",
       "updated": 12.5},
      {"name": "node3", "address": "10.0.0.4", "position": 3, "state": "failed", "detail": "",
       "bytes": 10485760, "rate_bps": 0, "eta_s": null, "error": "disk full on /dev/sda2", "last_message": "",
       "updated": 5.0}],
    "throughput": [{"t": 1.0, "bytes_per_s": 1.0e8}, {"t": 12.0, "bytes_per_s": 1.15e8}]})");
}

// Snapshots that are not what the schema says, none of which may make a view throw.
inline std::vector<nlohmann::json> MalformedSnapshots() {
  using nlohmann::json;
  std::vector<json> v = {json(), json::array(), json(42), json("text"), json::object()};
  v.push_back(json::parse(R"({"session": 7, "phase": null, "elapsed": "soon", "total_bytes": -5,
    "sent_bytes": "x", "chain": "node1", "exec_enabled": "yes", "nodes": {"a": 1}, "throughput": 3})"));
  v.push_back(json::parse(R"({"total_bytes": 1.5e30, "nodes": [null, 3, "n", [], {},
    {"name": ["x"], "position": "1", "state": 4, "bytes": -1, "rate_bps": "fast", "eta_s": -3, "updated": {}},
    {"name": "n", "position": 1e300, "bytes": 1e300, "rate_bps": 1e300, "eta_s": 1e300, "error": 5}],
    "throughput": [{"t": 1}, 5]})"));
  v.push_back(json::parse(R"({"total_bytes": 0,
    "nodes": [{"name": "", "state": "failed", "bytes": 18446744073709551615}],
    "throughput": []})"));
  return v;
}

// A FILE* writing to memory; Text() flushes and returns what was written.
class MemFile {
 public:
  MemFile() : f_(open_memstream(&buf_, &size_)) {}
  ~MemFile() {
    std::fclose(f_);
    std::free(buf_);
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  FILE* get() const { return f_; }
  std::string Text() {
    std::fflush(f_);
    return std::string(buf_, size_);
  }
  // What was written since the previous Take().
  std::string Take() {
    std::string all = Text();
    std::string fresh = all.substr(taken_);
    taken_ = all.size();
    return fresh;
  }

 private:
  char* buf_ = nullptr;
  size_t size_ = 0;
  size_t taken_ = 0;
  FILE* f_;
};

}  // namespace ka::control::testing
