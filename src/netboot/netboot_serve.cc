#include "netboot/netboot_serve.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <tuple>

#include <fmt/format.h>

#include "crypto/key_file.h"
#include "crypto/secret_file.h"
#include "netboot/boot_switch.h"
#include "netboot/build_info.h"
#include "netboot/grub_config.h"
#include "netboot/initramfs_writer.h"
#include "util/fd.h"
#include "util/log.h"
#include "util/process.h"

namespace ka::netboot {

namespace {

std::string Absolute(const std::string& p) {
  std::error_code ec;
  auto a = std::filesystem::absolute(p, ec);
  return ec ? p : a.lexically_normal().string();
}

std::string Dirname(const std::string& path) { return std::filesystem::path(path).parent_path().string(); }

volatile sig_atomic_t g_child = -1;
volatile sig_atomic_t g_signal = 0;

void ForwardSignal(int sig) {
  g_signal = sig;
  // SIGINT only clears caches in a daemonised dnsmasq: always ask it to stop with SIGTERM.
  if (g_child > 0) ::kill(static_cast<pid_t>(g_child), SIGTERM);
}

struct ChildResult {
  int wstatus = 0;
  std::string output_tail;  // last bytes of stderr (and stdout when captured)
  int forwarded_signal = 0;
};

// Runs argv[0] with argv; its stderr (and stdout with merge_stdout) is read back,
// echoed to our stderr when `echo`, and its tail kept. SIGINT/SIGTERM are forwarded.
Result<ChildResult> RunChild(const std::vector<std::string>& argv, bool merge_stdout, bool echo) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::Io(ErrnoMessage("creating a pipe for " + argv[0], errno));
  UniqueFd rd(fds[0]), wr(fds[1]);
  struct sigaction sa {}, old_int {}, old_term {};
  sa.sa_handler = ForwardSignal;
  sigemptyset(&sa.sa_mask);
  g_signal = 0;
  g_child = -1;
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);

  SpawnOptions so;
  so.own_process_group = true;  // a terminal's Ctrl-C reaches only us, and we forward it
  so.die_with_parent = true;
  so.stderr_fd = wr.get();
  if (merge_stdout) so.stdout_fd = wr.get();
  auto spawned = Spawn(argv, so);
  if (!spawned.ok()) {
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);
    return spawned.status();
  }
  pid_t pid = *spawned;
  g_child = pid;
  if (g_signal != 0) ::kill(pid, SIGTERM);  // arrived between fork and here
  wr.reset();

  ChildResult r;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(rd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (echo) {
      ssize_t ignored = ::write(STDERR_FILENO, buf, static_cast<size_t>(n));
      (void)ignored;
    }
    r.output_tail.append(buf, static_cast<size_t>(n));
    if (r.output_tail.size() > 8192) r.output_tail.erase(0, r.output_tail.size() - 4096);
  }
  while (::waitpid(pid, &r.wstatus, 0) < 0 && errno == EINTR) {
  }
  g_child = -1;
  r.forwarded_signal = g_signal;
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  return r;
}

std::string TrimNewlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

Result<std::vector<GeneratedFile>> PlanServe(ServeOptions o) {
  if (o.tftp_root.empty()) return Status::Invalid("give the build directory (DIR, as in `ka netboot build -o DIR`)");
  o.tftp_root = Absolute(o.tftp_root);
  o.state_dir = o.state_dir.empty() ? Dirname(o.tftp_root) + "/dnsmasq" : Absolute(o.state_dir);
  o.dnsmasq.tftp_root = o.tftp_root;
  o.dnsmasq.state_dir = o.state_dir;
  if (!o.boot.server.empty()) {
    auto s = NormalizeServer(o.boot.server);
    if (!s.ok()) return s.status();
    o.boot.server = *s;
  }
  o.boot.secret = !o.secret_file.empty();
  for (const auto& [file, line, option] :
       {std::tuple{&o.trust_key_file, &o.boot.trust_key, "--trust-key"},
        std::tuple{&o.operator_key_file, &o.boot.operator_key, "--operator-key"}}) {
    if (file->empty()) continue;
    auto k = crypto::LoadPublicKey(*file);
    if (!k.ok()) return k.status().Wrap(option);
    *line = crypto::FormatPublicKey(*k);
  }
  KA_RETURN_IF_ERROR(ValidateBootParams(o.boot));
  auto uefi = ReadBuildUefiLoader(o.tftp_root);
  if (!uefi.ok()) return uefi.status();
  o.dnsmasq.uefi = *uefi;
  KA_RETURN_IF_ERROR(CheckTftpRoot(o.tftp_root, *uefi));

  std::optional<InterfaceInfo> iface;
  if (!o.dnsmasq.interface.empty()) {
    auto i = LookupInterface(o.dnsmasq.interface);
    if (i.ok()) {
      iface = *i;
    } else if (!o.print) {
      return i.status();  // dnsmasq is going to bind it: it must exist now
    }
  }
  auto conf = RenderDnsmasqConfig(o.dnsmasq, iface);
  if (!conf.ok()) return conf.status();

  std::vector<GeneratedFile> files;
  files.push_back({o.state_dir + "/dnsmasq.conf", *conf, 0644, true});
  files.push_back({o.tftp_root + "/pxelinux.cfg/default", RenderPxelinuxConfig(o.boot), 0644, true});
  files.push_back({o.tftp_root + "/ka/boot.ipxe", RenderIpxeScript(o.boot), 0644, true});
  if (*uefi == UefiLoader::kShim) {
    files.push_back({o.tftp_root + "/" + kGrubConfig, RenderGrubConfig(o.boot), 0644, true});
  }
  if (!o.secret_file.empty()) {
    auto secret = crypto::LoadSecret(o.secret_file);
    if (!secret.ok()) return secret.status().Wrap("--secret-file");
    auto img = MakeSecretImage(*secret);
    if (!img.ok()) return img.status();
    // World-readable: dnsmasq serves it as its own unprivileged user, and TFTP
    // hands it to anyone on the boot network anyway.
    files.push_back({o.tftp_root + "/ka/secret.img", *img, 0644, false});
  }
  return files;
}

std::string FormatForPrint(const std::vector<GeneratedFile>& files) {
  std::string s;
  for (const auto& f : files) {
    if (!f.printable) {
      s += fmt::format("# ---- {} ---- ({} bytes, not shown)\n", f.path, f.content.size());
      continue;
    }
    s += fmt::format("# ---- {} ----\n{}", f.path, f.content);
    if (!f.content.empty() && f.content.back() != '\n') s += "\n";
  }
  return s;
}

Status WriteServeFiles(os::Env& env, const std::vector<GeneratedFile>& files) {
  for (const auto& f : files) {
    KA_RETURN_IF_ERROR(env.MakeDirs(Dirname(f.path)));
    KA_RETURN_IF_ERROR(env.WriteFile(f.path, f.content, f.mode));
  }
  return Status::Ok();
}

Status TestDnsmasqConfig(const std::string& binary, const std::string& conf) {
  if (::access(binary.c_str(), X_OK) != 0) {
    return Status::Invalid(fmt::format("{} not found: install it with `apt-get install dnsmasq-base`", binary));
  }
  auto r = RunChild({binary, "--test", "--conf-file=" + conf}, true, false);
  if (!r.ok()) return r.status();
  if (WIFEXITED(r->wstatus) && WEXITSTATUS(r->wstatus) == 0) return Status::Ok();
  return Status::Invalid(fmt::format("dnsmasq rejects {} ({}): {}", conf, DescribeWaitStatus(r->wstatus),
                                     TrimNewlines(r->output_tail)));
}

Status RunDnsmasq(const std::string& binary, const std::string& conf) {
  if (::access(binary.c_str(), X_OK) != 0) {
    return Status::Invalid(fmt::format("{} not found: install it with `apt-get install dnsmasq-base`", binary));
  }
  auto r = RunChild({binary, "--keep-in-foreground", "--conf-file=" + conf}, false, true);
  if (!r.ok()) return r.status();
  if (r->forwarded_signal != 0 &&
      ((WIFEXITED(r->wstatus) && WEXITSTATUS(r->wstatus) == 0) ||
       (WIFSIGNALED(r->wstatus) && WTERMSIG(r->wstatus) == SIGTERM))) {
    LogInfo("dnsmasq stopped (signal {})", static_cast<int>(r->forwarded_signal));
    return Status::Ok();
  }
  return Status::Io(fmt::format("dnsmasq ({}) {}: {}", conf, DescribeWaitStatus(r->wstatus),
                                TrimNewlines(r->output_tail)));
}

std::vector<std::string> TrustWarnings(const ServeOptions& o) {
  std::vector<std::string> w;
  if (!o.secret_file.empty()) {
    w.push_back(fmt::format(
        "*** --secret-file {}: ka/secret.img holds the session secret, and TFTP has no authentication: ANYONE on "
        "the boot network can fetch it, then join or feed sessions as a node. Keep that network on its own VLAN, "
        "and prefer --trust-key (nodes accept only a stream signed by the golden's key) and --operator-key (ka "
        "exec only when signed by the operator's key): see docs/netboot.md ***",
        o.secret_file));
  } else if (o.trust_key_file.empty()) {
    w.push_back(
        "no --trust-key and no --secret-file: stage1 nodes will accept any server on the boot network (give "
        "--trust-key with the golden's public key: see docs/netboot.md)");
  }
  return w;
}

std::vector<std::string> TrustNotes(const ServeOptions& o) {
  std::vector<std::string> n;
  for (const auto& [file, what] : {std::pair{&o.trust_key_file, "nodes accept only a stream signed by the golden key"},
                                   std::pair{&o.operator_key_file, "nodes accept remote commands signed by the "
                                                                   "operator key"}}) {
    if (file->empty()) continue;
    auto k = crypto::LoadPublicKey(*file);
    if (k.ok()) n.push_back(fmt::format("{} {} ({})", what, k->Fingerprint(), *file));
  }
  return n;
}

Status Serve(const ServeOptions& o, std::FILE* out) {
  auto files = PlanServe(o);
  if (!files.ok()) return files.status();
  for (const auto& w : TrustWarnings(o)) LogWarn("{}", w);
  for (const auto& n : TrustNotes(o)) LogInfo("{}", n);
  if (o.print) {
    const std::string text = FormatForPrint(*files);
    std::fwrite(text.data(), 1, text.size(), out);
    std::fflush(out);
    return Status::Ok();
  }
  const std::string grub_cfg = Absolute(o.tftp_root) + "/" + kGrubConfig;
  const bool secure_boot = std::any_of(files->begin(), files->end(), [&](const auto& f) { return f.path == grub_cfg; });
  if (secure_boot) {
    LogInfo("Secure Boot build: UEFI nodes get shimx64.efi, then Debian's signed GRUB and {}", kGrubConfig);
  } else {
    for (const auto& f : MissingUefiFiles(Absolute(o.tftp_root))) {
      LogWarn("{} is missing from the TFTP root: UEFI nodes will not boot (rebuild with `ka netboot build`)", f);
    }
  }
  KA_RETURN_IF_ERROR(WriteServeFiles(os::DefaultEnv(), *files));
  const std::string& conf = files->front().path;
  for (const auto& f : *files) LogInfo("wrote {}", f.path);
  if (o.no_run) return Status::Ok();
  LogInfo("starting {} --keep-in-foreground --conf-file={} (Ctrl-C stops it)", o.dnsmasq_binary, conf);
  return RunDnsmasq(o.dnsmasq_binary, conf);
}

}  // namespace ka::netboot
