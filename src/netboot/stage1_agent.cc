#include "netboot/stage1_agent.h"

#include <fmt/format.h>

#include <chrono>

#include "crypto/key_file.h"
#include "netboot/disk_pick.h"

namespace ka::netboot {

std::string Stage2Session(const std::string& session) { return session + "-stage2"; }

std::string NodeNameForMac(const std::string& mac) {
  if (mac.size() != 17) return {};
  std::string tail = mac.substr(9);
  for (char& c : tail)
    if (c == ':') c = '-';
  return "pxe-" + tail;
}

namespace {

class Agent {
 public:
  Agent(const Stage1Config& c, os::Env& env, std::ostream& console)
      : c_(c), p_(c.params), env_(env), console_(console) {}

  int Run() {
    if (p_.rescue) {
      Say("ka stage1: rescue boot (ka.rescue): no clone, starting a shell");
      return 3;
    }
    Say(fmt::format("ka stage1: session '{}' on {}, disk {}, {} tries, then {}; on failure {}", p_.session,
                    p_.server.empty() ? "the server found by broadcast" : p_.server, p_.disk, p_.tries, p_.then,
                    p_.fail));
    if (!p_.trust.empty()) {
      Say("ka stage1: accepting only a stream signed by " + Fingerprint(p_.trust) + " (ka.trust)");
    }
    if (!p_.operator_key.empty()) {
      Say("ka stage1: remote commands only when signed by " + Fingerprint(p_.operator_key) + " (ka.operator)");
    }
    for (int i = 1; i <= p_.tries; ++i) {
      Say(fmt::format("ka stage1: try {} of {}", i, p_.tries));
      std::string why = Try();
      if (why.empty()) {
        Say("ka stage1: clone done");
        return 0;
      }
      Say(fmt::format("ka stage1: try {} of {} failed: {}", i, p_.tries, why));
      if (i < p_.tries) Countdown("next try", p_.delay);
    }
    Say(fmt::format("ka stage1: no clone after {} tries", p_.tries));
    if (p_.fail == "shell") {
      Say("ka stage1: ka.fail=shell: starting a shell (`ka netboot stage1` tries again)");
      return 3;
    }
    Countdown(p_.fail == "reboot" ? "rebooting" : "powering off", p_.delay);
    Status s = env_.PowerAction(p_.fail);
    Say(fmt::format("ka stage1: {} failed: {}", p_.fail, s.ToString()));
    return 1;
  }

 private:
  std::vector<std::string> Common(const std::string& session) {
    // Each try gives up after 8 s (the agent's own tries and countdown are what the console shows);
    // within that, a refused or reset join is tried again.
    std::vector<std::string> a{"--session", session, "--join-timeout", "8"};
    if (!p_.server.empty()) a.insert(a.end(), {"--server", p_.server});
    if (env_.FileExists(c_.secret_file)) a.insert(a.end(), {"--secret-file", c_.secret_file});
    if (!p_.trust.empty()) a.insert(a.end(), {"--trust", p_.trust});
    if (!p_.operator_key.empty()) a.insert(a.end(), {"--allow-remote-commands", p_.operator_key});
    std::string name = NodeNameForMac(p_.boot_mac);
    if (!name.empty()) a.insert(a.end(), {"--name", name});
    return a;
  }

  static std::string Fingerprint(const std::string& key_line) {
    auto k = crypto::ParsePublicKey(key_line);
    return k.ok() ? k->Fingerprint() : key_line;
  }

  // "" on success, else why the try failed.
  std::string Try() {
    if (!env_.FileExists(c_.stage2_marker)) {
      Say("ka stage1: fetching stage2 (node tools) through the chain");
      std::vector<std::string> recv{c_.ka, "receive"};
      auto common = Common(Stage2Session(p_.session));
      recv.insert(recv.end(), common.begin(), common.end());
      recv.insert(recv.end(), {"--wait", "10", "--output", c_.stage2_file});
      if (int rc = Run(recv); rc != 0) return Describe("receiving stage2", rc);
      int rc = Run({c_.ka, "tree-extract", c_.stage2_root, "-i", c_.stage2_file});
      (void)env_.RemoveFile(c_.stage2_file);  // only space in the initramfs: a leftover is harmless
      if (rc != 0) return Describe("unpacking stage2", rc);
      const std::string marker_dir = c_.stage2_marker.substr(0, c_.stage2_marker.rfind('/'));
      Status w = env_.MakeDirs(marker_dir.empty() ? "/" : marker_dir);
      if (w.ok()) w = env_.WriteFile(c_.stage2_marker, "");
      if (!w.ok()) return w.message();
      Say("ka stage1: stage2 installed");
    }
    std::string disk = p_.disk;
    if (disk == "auto") {
      auto d = PickDisk(env_);
      if (!d.ok()) {
        // A disk whose driver /init did not load (its controller found late): load the
        // drivers of the devices present now, then look again.
        Say("ka stage1: no disk yet; loading the drivers of the devices present");
        Run({"/bin/sh", "-c", kLoadDrivers});
        d = PickDisk(env_);
      }
      if (!d.ok()) return d.status().message();
      disk = d.value();
      Say("ka stage1: cloning onto " + disk + " (ka.disk=auto)");
    }
    std::vector<std::string> join{c_.ka, "join"};
    auto common = Common(p_.session);
    join.insert(join.end(), common.begin(), common.end());
    // --dev-links: stage1 has no udev; the clone's disk gets its /dev/disk/by-* links here too.
    join.insert(join.end(), {"--disk", disk, "--then", p_.then, "--dev-links"});
    if (!p_.boot_mac.empty()) join.insert(join.end(), {"--mac", p_.boot_mac});
    if (int rc = Run(join); rc != 0) return Describe("ka join", rc);
    return {};
  }

  static constexpr const char* kLoadDrivers =
      "for a in $(cat /sys/bus/*/devices/*/modalias 2>/dev/null | sort -u); do modprobe -q -b \"$a\"; done; sleep 2";

  static std::string Describe(const std::string& what, int rc) {
    if (rc < 0) return what + ": could not start ka";
    if (rc > 128) return fmt::format("{}: killed by signal {}", what, rc - 128);
    return fmt::format("{} exited with status {} (its messages are above)", what, rc);
  }

  void Countdown(const std::string& what, int seconds) {
    for (int left = seconds; left > 0; --left) {
      Say(fmt::format("ka stage1: {} in {} s ", what, left), /*same_line=*/true);
      env_.Pause(std::chrono::seconds(1));
    }
    Say(fmt::format("ka stage1: {} now", what));
  }

  // One line on the console, or with `same_line` a line redrawn in place.
  void Say(const std::string& text, bool same_line = false) {
    if (same_line) {
      console_ << '\r' << text;
      mid_line_ = true;
    } else {
      console_ << (mid_line_ ? "\n" : "") << text << '\n';
      mid_line_ = false;
    }
    console_.flush();
  }

  // A program on the console, below what was said.
  int Run(const std::vector<std::string>& argv) {
    if (mid_line_) console_ << '\n';
    mid_line_ = false;
    console_.flush();
    return env_.RunAttached(argv);
  }

  const Stage1Config& c_;
  const Stage1Params& p_;
  os::Env& env_;
  std::ostream& console_;
  bool mid_line_ = false;
};

}  // namespace

int RunStage1(const Stage1Config& config, os::Env& env, std::ostream& console) {
  return Agent(config, env, console).Run();
}

}  // namespace ka::netboot
