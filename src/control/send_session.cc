#include "control/send_session.h"

#include <sys/stat.h>

#include <chrono>
#include <thread>

#include <spdlog/sinks/basic_file_sink.h>

#include "control/progress_display.h"
#include "control/session_dir.h"
#include "control/session_recorder.h"
#include "control/status_service.h"
#include "control/web_server.h"
#include "control/web_token.h"
#include "util/file.h"
#include "util/log.h"

namespace ka::control {

namespace {

// The server's own log, DIR/server.log, beside the nodes' for the session's length.
class ServerLog {
 public:
  explicit ServerLog(const std::string& dir) {
    if (dir.empty()) return;
    try {
      spdlog::file_event_handlers private_file;  // 0600 whatever the umask: the log names nodes and commands
      private_file.after_open = [](const spdlog::filename_t&, std::FILE* f) { (void)::fchmod(::fileno(f), 0600); };
      auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(ServerLogPath(dir), false, private_file);
      file->set_pattern("%H:%M:%S.%e %-5l %v");
      sink_ = file;
      AddLogSink(file);
    } catch (const spdlog::spdlog_ex& e) {
      LogWarn("cannot write {}/server.log: {}", dir, e.what());
    }
  }
  ~ServerLog() {
    if (sink_) RemoveLogSink(sink_);  // a later session (ka serve: stage2, then the clone) has its own
  }
  ServerLog(const ServerLog&) = delete;
  ServerLog& operator=(const ServerLog&) = delete;

 private:
  std::shared_ptr<spdlog::sinks::sink> sink_;
};

Result<std::unique_ptr<WebServer>> StartWeb(const SendSessionOptions& o, const SessionState& state) {
  auto token = LoadOrCreateWebToken(o.web_token_file, state.dir());
  if (!token.ok()) return token.status().Wrap("--web-token-file");
  if (!token->warning.empty()) LogWarn("{}", token->warning);
  if (token->file.empty())
    return Status::Invalid("--web needs --web-token-file FILE (or a session directory, where the token is written): "
                           "the token never appears in a log");
  auto w = WebServer::Start(o.web, token->token, state);
  if (!w.ok()) return w.status().Wrap("--web");
  LogInfo("dashboard (read-only): {}", (*w)->UrlForLog(token->file));
  return w;
}

// The summary on stdout, DIR/report.json and --report.
void WriteReport(const SendSessionOptions& o, SessionState& state, const chain::SessionReport& report) {
  std::fputs(report.SummaryText().c_str(), stdout);
  std::fflush(stdout);
  state.WriteReport(report.ToJson());
  if (o.report_path.empty()) return;
  Status w = WriteFileAtomic(o.report_path,
                             report.ToJson().dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  if (!w.ok()) LogError("could not write the report to {}: {}", o.report_path, w.ToString());
}

}  // namespace

int RunSendSession(const SendSessionOptions& o) {
  std::string dir = o.session_dir.empty() ? DefaultSessionDir(o.session)
                    : o.session_dir == "none" ? std::string()
                                              : o.session_dir;
  SessionState state(o.session, dir);
  state.SetExecEnabled(o.allow_exec);
  ServerLog server_log(state.dir());
  if (!state.dir().empty())
    LogInfo("session directory: {} (server.log, logs/NODE.log, report.json)", state.dir());
  if (o.allow_exec)
    LogInfo("remote commands (ka exec) are relayed; each node runs only those signed by an operator key it trusts");
  ProgressDisplay display(state, stdout, o.progress_interval);
  SessionRecorder recorder(state, &display);
  chain::Sender sender(o, &recorder);
  StatusService status(state, sender, o.allow_exec);
  sender.SetStatusHandler([&status](std::unique_ptr<chain::SecureChannel> ch, const Endpoint& peer,
                                    const std::atomic<bool>& stop) { status.Serve(std::move(ch), peer, stop); });
  std::function<void()> detach = o.attach ? o.attach(state) : nullptr;
  std::unique_ptr<WebServer> web;  // after state: stopped before it is destroyed
  if (!o.web.empty()) {
    auto w = StartWeb(o, state);
    if (!w.ok()) {
      LogError("{}", w.status().ToString());
      if (detach) detach();
      return 2;
    }
    web = std::move(w).value();
  }
  auto report = sender.Run();
  display.Stop();
  if (!report.ok()) {
    if (detach) detach();
    return 2;
  }
  if (o.finish_report) o.finish_report(*report);
  WriteReport(o, state, *report);
  if (detach) detach();
  if (web && o.web_linger > 0) {
    // The final state (phase done, every verdict) for a last look or a last /metrics scrape.
    LogInfo("dashboard: showing the final state for {:.0f} s more (--web-linger)", o.web_linger);
    std::this_thread::sleep_for(std::chrono::duration<double>(o.web_linger));
  }
  return report->AllOk() ? 0 : 1;
}

}  // namespace ka::control
