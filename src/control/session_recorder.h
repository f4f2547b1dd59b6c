// The control plane's chain::SessionObserver: records what the sender reports
// in the SessionState (read by the dashboard, `ka status` and the report) and
// starts and stops the progress display with the stream.
#pragma once

#include "chain/session_observer.h"
#include "control/progress_display.h"
#include "control/session_state.h"

namespace ka::control {

class SessionRecorder : public chain::SessionObserver {
 public:
  // `display` may be null; both outlive the recorder.
  SessionRecorder(SessionState& state, ProgressDisplay* display) : state_(state), display_(display) {}

  void SessionStarted(const std::string& session_id, const std::string& source,
                      std::optional<uint64_t> total) override {
    state_.SetInfo(session_id, source, total);
  }
  void PhaseChanged(const std::string& phase) override {
    state_.SetPhase(phase);
    if (phase == "streaming" && display_) display_->Start();
  }
  void ChainChanged(const std::vector<std::string>& names) override { state_.SetChain(names); }
  void BytesSent(uint64_t bytes) override { state_.SetSent(bytes); }
  void StreamFinished() override {
    if (display_) display_->Stop();
  }
  void NodeJoined(const std::string& name, const std::string& address) override { state_.NodeJoined(name, address); }
  void NodePosition(const std::string& name, int position) override { state_.NodePosition(name, position); }
  void NodeState(const std::string& name, const std::string& state, const std::string& detail) override {
    state_.NodeState(name, state, detail);
  }
  void NodeBytes(const std::string& name, uint64_t payload) override { state_.NodeBytes(name, payload); }
  void NodeLog(const std::string& name, const std::vector<std::string>& lines) override {
    state_.NodeLog(name, lines);
  }
  void NodeDone(const std::string& name) override { state_.NodeDone(name); }
  void NodeFailed(const std::string& name, const std::string& error) override { state_.NodeFailed(name, error); }

 private:
  SessionState& state_;
  ProgressDisplay* display_;
};

}  // namespace ka::control
