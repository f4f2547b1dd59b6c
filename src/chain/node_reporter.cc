#include "chain/node_reporter.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

namespace ka::chain {

namespace {
constexpr size_t kMaxQueued = 5000;  // lines kept while the server is unreachable
}

void NodeReporter::State(const std::string& state, const std::string& detail) {
  std::lock_guard l(mu_);
  has_state_ = true;
  state_ = state;
  detail_ = detail;
}

void NodeReporter::Phase(const std::string& name, double seconds) {
  std::lock_guard l(mu_);
  phases_[name] += seconds;
}

std::map<std::string, double> NodeReporter::Phases() const {
  std::lock_guard l(mu_);
  return phases_;
}

void NodeReporter::Log(std::string line) {
  std::lock_guard l(mu_);
  if (lines_.size() >= kMaxQueued) {
    lines_.pop_front();
    ++dropped_;
  }
  lines_.push_back(std::move(line));
}

NodeReporter::Pending NodeReporter::Take() {
  std::lock_guard l(mu_);
  Pending p;
  p.has_state = has_state_;
  p.state = state_;
  p.detail = detail_;
  has_state_ = false;
  if (dropped_) {
    p.lines.push_back("... " + std::to_string(dropped_) + " log lines dropped while the server was unreachable");
    dropped_ = 0;
  }
  p.lines.insert(p.lines.end(), std::make_move_iterator(lines_.begin()), std::make_move_iterator(lines_.end()));
  lines_.clear();
  return p;
}

std::string NodeReporter::state() const {
  std::lock_guard l(mu_);
  return state_;
}

namespace {
class ReporterSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ReporterSink(std::shared_ptr<NodeReporter> r) : r_(std::move(r)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    std::string line(buf.data(), buf.size());
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    r_->Log(std::move(line));
  }
  void flush_() override {}

 private:
  std::shared_ptr<NodeReporter> r_;
};
}  // namespace

std::shared_ptr<spdlog::sinks::sink> ForwardLogs(std::shared_ptr<NodeReporter> reporter) {
  auto sink = std::make_shared<ReporterSink>(std::move(reporter));
  sink->set_pattern("%H:%M:%S.%e %-5l %v");
  sink->set_level(spdlog::level::info);
  AddLogSink(sink);
  return sink;
}

}  // namespace ka::chain
