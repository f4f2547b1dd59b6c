#include "cli/dashboard_cmd.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "control/session_view.h"
#include "control/web_server.h"
#include "control/web_token.h"
#include "util/log.h"
#include "util/units.h"

namespace ka::cli {
namespace {

using Json = nlohmann::json;

constexpr double kTick = 0.2;               // seconds between updates (and log lines)
constexpr double kRate = 110.0 * (1 << 20);  // bytes per second of the synthetic stream
constexpr uint64_t kMiB = 1 << 20;

std::string Fmt(const char* f, double a, double b = 0, double c = 0) {
  char buf[200];
  std::snprintf(buf, sizeof buf, f, a, b, c);
  return buf;
}

// A clone session played on a fixed timeline scaled to `seconds`: nodes join, partition and
// format, receive the stream (node3 fails half-way and leaves the chain), then extract,
// individualise, install drivers and the boot loader, and are done.
class DemoSession : public control::SessionView {
 public:
  explicit DemoSession(double seconds) : span_(std::max(seconds, 5.0)) {
    total_ = static_cast<uint64_t>(0.6 * span_ * kRate) / kMiB * kMiB;
    for (int k = 0; k < 3; ++k) {
      Node n;
      n.name = "node" + std::to_string(k + 1);
      n.address = "192.168.50." + std::to_string(11 + k);
      nodes_.push_back(n);
    }
  }

  void Advance(double t) {
    std::lock_guard<std::mutex> lock(mu_);
    const double dt = t - now_;
    now_ = t;
    const double prep = 0.07 * span_, stream = 0.15 * span_;
    double rate = 0;
    for (size_t k = 0; k < nodes_.size(); ++k) {
      Node& n = nodes_[k];
      if (!n.joined && t >= 0.2 + 0.02 * span_ * static_cast<double>(k)) {
        n.joined = true;
        n.position = static_cast<int>(chain_.size()) + 1;
        chain_.push_back(n.name);
        Set(n, "joined", "waiting for the session to start");
        Say(n, "joined session demo from " + n.address + ", position " + std::to_string(n.position) + " in the chain");
      }
    }
    if (t < prep) {
      phase_ = "waiting";
    } else if (t < stream) {
      phase_ = "preparing";
      for (size_t k = 0; k < nodes_.size(); ++k) {
        Node& n = nodes_[k];
        if (t < prep + (0.035 + 0.005 * static_cast<double>(k)) * span_)
          Set(n, "partitioning", "/dev/sda: gpt, 3 partitions");
        else
          Set(n, "formatting", "/dev/sda2: ext4");
      }
    } else if (sent_ < total_) {
      phase_ = "streaming";
      const double ramp = std::min(1.0, (t - stream) / 1.5);
      rate = kRate * ramp * (1 + 0.07 * std::sin(t * 1.7) + 0.04 * std::sin(t * 5.3));
      sent_ = std::min<uint64_t>(total_, sent_ + static_cast<uint64_t>(rate * dt));
      for (size_t k = 0; k < nodes_.size(); ++k) {
        Node& n = nodes_[k];
        if (n.state == "failed") continue;
        const uint64_t lag = 6 * kMiB * k;
        n.bytes = sent_ > lag ? sent_ - lag : 0;
        n.rate = rate * (1 - 0.01 * static_cast<double>(k));
        Set(n, "receiving", "writing /dev/sda2");
        if (k == 2 && n.bytes >= total_ * 55 / 100) {
          n.error = "write /dev/sda2 at " + FormatBytes(n.bytes) +
                    ": Input/output error (the disk failed; replace it, then ka join again)";
          n.rate = 0;
          Set(n, "failed", "dropped from the chain");
          Say(n, "failed: " + n.error);
          chain_.erase(std::remove(chain_.begin(), chain_.end(), n.name), chain_.end());
        }
      }
      if (sent_ == total_) finish_ = t;
    } else {
      phase_ = "finishing";
      static const std::array<const char*, 5> kSteps = {"extracting", "individualising", "drivers", "bootloader", "done"};
      static const std::array<const char*, 5> kDetail = {"/ (ext4) from the stream", "hostname, machine-id, ssh keys",
                                                          "initramfs for 6.1.0-18-amd64", "grub-install /dev/sda",
                                                          "ready to reboot"};
      bool all_done = true;
      for (size_t k = 0; k < nodes_.size(); ++k) {
        Node& n = nodes_[k];
        if (n.state == "failed") continue;
        n.bytes = total_;
        n.rate = 0;
        const double since = t - finish_ - 0.01 * span_ * static_cast<double>(k);
        size_t step = since <= 0 ? 0 : std::min<size_t>(4, static_cast<size_t>(since / (0.035 * span_)));
        Set(n, kSteps[step], kDetail[step]);
        all_done = all_done && step == 4;
      }
      if (all_done) phase_ = "done";
    }
    for (auto& n : nodes_)
      if (n.joined) Tick(n);
    if (t >= next_sample_) {
      samples_.push_back({t, rate});
      next_sample_ = t + 0.5;
    }
  }

  Json Snapshot() const override {
    std::lock_guard<std::mutex> lock(mu_);
    Json nodes = Json::array();
    for (const auto& n : nodes_) {
      if (!n.joined) continue;
      const bool moving = n.state == "receiving" && n.rate > 0;
      nodes.push_back({{"name", n.name},
                       {"address", n.address},
                       {"position", n.position},
                       {"state", n.state},
                       {"detail", n.detail},
                       {"bytes", n.bytes},
                       {"rate_bps", n.rate},
                       {"eta_s", moving ? Json(static_cast<double>(total_ - n.bytes) / n.rate) : Json(nullptr)},
                       {"error", n.error},
                       {"last_message", n.last},
                       {"updated", n.updated}});
    }
    Json throughput = Json::array();
    for (const auto& s : samples_) throughput.push_back({{"t", s.first}, {"bytes_per_s", s.second}});
    return {{"session", "demo"},
            {"session_id", session_id_},
            {"source", "clone of /srv/golden/debian12.img (synthetic demo session)"},
            {"phase", phase_},
            {"elapsed", now_},
            {"total_bytes", total_},
            {"sent_bytes", sent_},
            {"chain", chain_},
            {"exec_enabled", false},
            {"nodes", nodes},
            {"throughput", throughput}};
  }

  Result<std::vector<std::string>> Log(const std::string& node, uint64_t from, size_t max,
                                       uint64_t* next) const override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& n : nodes_) {
      if (n.name != node || !n.joined) continue;
      const uint64_t start = std::min<uint64_t>(from, n.log.size());
      const uint64_t end = std::min<uint64_t>(n.log.size(), start + max);
      *next = end;
      return std::vector<std::string>(n.log.begin() + static_cast<std::ptrdiff_t>(start),
                                      n.log.begin() + static_cast<std::ptrdiff_t>(end));
    }
    return Status::Invalid("no node named '" + node + "' in session demo");
  }

 private:
  struct Node {
    std::string name, address, state, detail, error, last;
    std::vector<std::string> log;
    uint64_t bytes = 0;
    double rate = 0, updated = 0;
    int position = 0;
    bool joined = false;
    bool quiet = false;  // done: no more lines
  };

  void Say(Node& n, const std::string& text) {
    n.log.push_back(Fmt("[%7.1f] ", now_) + text);
    n.last = text;
    n.updated = now_;
  }
  void Set(Node& n, const std::string& state, const std::string& detail) {
    if (n.state == state) return;
    n.state = state;
    n.detail = detail;
    Say(n, state + ": " + detail);
  }
  // One progress line per tick while the node works.
  void Tick(Node& n) {
    if (n.state == "failed" || n.quiet) return;
    const std::string& s = n.state;
    if (s == "joined") {
      Say(n, "waiting for the session to start (" + std::to_string(chain_.size()) + " of 3 nodes joined)");
    } else if (s == "partitioning") {
      Say(n, "sfdisk /dev/sda: gpt, 3 partitions, aligned to 1 MiB");
    } else if (s == "formatting") {
      Say(n, "mkfs.ext4 /dev/sda2: writing inode tables");
    } else if (s == "receiving") {
      const double pct = 100.0 * static_cast<double>(n.bytes) / static_cast<double>(total_);
      Say(n, "received " + FormatBytes(n.bytes) + " of " + FormatBytes(total_) + Fmt(" (%.1f %%) at %.1f MiB/s", pct,
                                                                                      n.rate / kMiB));
    } else if (s == "extracting") {
      Say(n, "extracting to / (ext4): " + std::to_string(static_cast<int>(now_ * 1733) % 90000) + " files written");
    } else if (s == "individualising") {
      Say(n, "hostname " + n.name + ", new machine-id, new ssh host keys");
    } else if (s == "drivers") {
      Say(n, "update-initramfs -u -k 6.1.0-18-amd64");
    } else if (s == "bootloader") {
      Say(n, "grub-install --target=i386-pc /dev/sda");
    } else if (s == "done") {
      Say(n, "the clone of /srv/golden/debian12.img is complete; ready to reboot");
      n.quiet = true;
    }
  }

  mutable std::mutex mu_;
  const double span_;
  uint64_t total_ = 0, sent_ = 0;
  double now_ = 0, finish_ = 0, next_sample_ = 0.5;
  std::string phase_ = "waiting";
  std::string session_id_ = control::NewToken().substr(0, 16);
  std::vector<Node> nodes_;
  std::vector<std::string> chain_;
  std::vector<std::pair<double, double>> samples_;
};

}  // namespace

DashboardCommands::DashboardCommands(CLI::App& app) {
  demo_ = app.add_subcommand("dashboard-demo", "Serve a synthetic session on the web dashboard (tests, demos)");
  demo_->group("");  // hidden: a test tool, not part of the interface
  demo_->add_option("--web", web_, "Listen on ADDR:PORT, :PORT (all addresses) or PORT (127.0.0.1); port 0: any")
      ->required();
  demo_->add_option("--token-file", token_file_,
                    "Take the token from this file's first line (a missing or empty file gets a new one)");
  demo_->add_option("--seconds", seconds_, "Serve this long; the synthetic session spans it")
      ->check(CLI::Range(1.0, 86400.0))
      ->capture_default_str();
}

bool DashboardCommands::parsed() const { return demo_->parsed(); }

int DashboardCommands::Run(bool verbose) {
  InitLogging("dashboard", verbose);
  auto token = control::LoadOrCreateWebToken(token_file_, "");
  if (!token.ok()) {
    std::fprintf(stderr, "ka dashboard-demo: %s\n", token.status().message().c_str());
    return token.status().code() == Status::Code::kIo ? 1 : 2;
  }
  if (!token->warning.empty()) LogWarn("{}", token->warning);
  DemoSession session(seconds_);
  auto server = control::WebServer::Start(web_, token->token, session);
  if (!server.ok()) {
    std::fprintf(stderr, "ka dashboard-demo: %s\n", server.status().message().c_str());
    return server.status().code() == Status::Code::kInvalid ? 2 : 1;
  }
  // The full URL goes to stdout (a demo's terminal), never to the log.
  std::printf("dashboard: %s\n", (*server)->Url().c_str());
  std::fflush(stdout);
  LogInfo("dashboard-demo: {}", (*server)->UrlForLog(token->file));
  const auto start = std::chrono::steady_clock::now();
  for (int i = 1;; ++i) {
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (t >= seconds_) break;
    session.Advance(t);
    std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                              std::chrono::duration<double>(i * kTick)));
  }
  (*server)->Stop();
  LogInfo("dashboard-demo: served {} s, stopped", seconds_);
  return 0;
}

}  // namespace ka::cli
