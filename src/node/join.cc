#include "node/join.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/reboot.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "format/manifest.h"
#include "node/clone_output.h"
#include "node/dev_links.h"
#include "node/finish.h"
#include "node/identity.h"
#include "node/target.h"
#include "os/env.h"
#include "util/interrupt.h"
#include "util/log.h"
#include "util/net.h"

namespace ka::node {

namespace {

class Join {
 public:
  explicit Join(const JoinOptions& o) : opt_(o), target_(env_) {}
  int Run();

 private:
  Result<std::string> Prepare(const nlohmann::json& body, const std::string& local);
  Status Finish();
  void MakeDevLinks();

  JoinOptions opt_;
  os::Env& env_ = os::DefaultEnv();
  Target target_;
  format::Manifest manifest_;
  Identity identity_;
  std::string hostname_template_;
  CloneOutput* output_ = nullptr;
  std::shared_ptr<chain::NodeReporter> reporter_ = std::make_shared<chain::NodeReporter>();
  double release_after_ = 0;
};

Result<std::string> Join::Prepare(const nlohmann::json& body, const std::string& local) {
  auto it = body.find("clone");
  if (it == body.end()) return Status::Protocol("PREPARE without a clone manifest: is the server `ka serve`?");
  auto m = format::Manifest::FromJson(*it);
  if (!m.ok()) return m.status();
  manifest_ = m.value();
  identity_.index = body.value("index", 0);
  identity_.name = body.value("name", std::string());
  identity_.ip = local;
  identity_.mac = !opt_.receive.mac.empty() ? opt_.receive.mac : MacOfAddress(local);
  hostname_template_ = !opt_.hostname_template.empty() ? opt_.hostname_template : manifest_.hostname_template;
  if (!hostname_template_.empty()) {
    auto h = ExpandHostname(hostname_template_, identity_);
    if (!h.ok()) return h.status();
    LogInfo("this node will be {} (index {}, {} {})", h.value(), identity_.index, identity_.ip, identity_.mac);
  }
  LogInfo("cloning {} onto {}: checking that it fits", manifest_.source, opt_.disk);
  reporter_->State("partitioning", "checking that the layout fits " + opt_.disk);
  KA_RETURN_IF_ERROR(target_.Check(manifest_, opt_.disk));
  auto detail = target_.Apply();
  if (!detail.ok()) {
    (void)target_.MarkNotCloned();
    return detail.status();
  }
  if (opt_.dev_links) MakeDevLinks();
  output_->SetTarget(&target_);
  reporter_->State("receiving", "waiting for the stream");
  return detail;
}

void Join::MakeDevLinks() {
  auto nodes = target_.DiskNodes();
  Result<int> made = nodes.ok() ? WriteDevLinks("/dev", UdevLinks(*nodes)) : Result<int>(nodes.status());
  if (made.ok())
    LogInfo("/dev/disk links of {}: {} made", opt_.disk, *made);
  else
    LogWarn("could not make the /dev/disk links of {}: {}", opt_.disk, made.status().ToString());
}

Status Join::Finish() {
  FinishOptions fo;
  fo.hostname_template = hostname_template_;
  fo.on_state = [this](const std::string& s, const std::string& d) { reporter_->State(s, d); };
  fo.on_phase = [this](const std::string& p, double s) { reporter_->Phase(p, s); };
  Status s = FinishClone(target_, manifest_, identity_, fo, env_);
  if (!s.ok()) return s;
  KA_RETURN_IF_ERROR(target_.UnmountAll());
  KA_RETURN_IF_ERROR(target_.Release());
  LogInfo("clone of {} complete on {}", manifest_.source, opt_.disk);
  return Status::Ok();
}

int Join::Run() {
  InterruptCleanup interrupt;  // a node stopped by a signal leaves its disk marked not cloned, nothing mounted
  interrupt.Set([this] { (void)target_.MarkNotCloned(); });
  auto disk = env_.Inspect(opt_.disk);
  if (!disk.ok()) {
    LogError("--disk {}: {}", opt_.disk, disk.status().ToString());
    return 2;
  }
  if (opt_.then != "exit" && opt_.then != "reboot" && opt_.then != "poweroff") {
    LogError("--then {}: choose exit, reboot or poweroff", opt_.then);
    return 2;
  }
  chain::ReceiveOptions ro = opt_.receive;
  ro.reporter = reporter_;
  target_.on_state = [this](const std::string& s, const std::string& d) { reporter_->State(s, d); };
  target_.on_phase = [this](const std::string& p, double s) { reporter_->Phase(p, s); };
  ro.make_output = [this]() -> Result<std::unique_ptr<chain::Output>> {
    auto o = std::make_unique<CloneOutput>([this] { return Finish(); },
                                           [this](const Status& why) {
                                             LogError("clone failed: {}", why.ToString());
                                             (void)target_.MarkNotCloned();
                                           });
    output_ = o.get();
    o->on_state = [this](const std::string& s, const std::string& d) { reporter_->State(s, d); };
    return std::unique_ptr<chain::Output>(std::move(o));
  };
  ro.prepare = [this](const nlohmann::json& body, const std::string& local) { return Prepare(body, local); };
  ro.on_bye = [this](const nlohmann::json& bye) { release_after_ = bye.value("release_after", 0.0); };
  int rc = chain::RunReceive(ro);
  if (rc != 0) return rc;
  if (release_after_ > 0) {
    LogInfo("released in {:.1f} s (staggered release)", release_after_);
    std::this_thread::sleep_for(std::chrono::duration<double>(release_after_));
  }
  if (opt_.then == "exit") return 0;
  ::sync();
  LogInfo("{} now", opt_.then == "reboot" ? "rebooting" : "powering off");
  ::reboot(opt_.then == "reboot" ? RB_AUTOBOOT : RB_POWER_OFF);
  LogError("{} failed: {}", opt_.then, std::strerror(errno));
  return 1;
}

}  // namespace

int RunJoin(const JoinOptions& options) {
  Join j(options);
  return j.Run();
}

}  // namespace ka::node
