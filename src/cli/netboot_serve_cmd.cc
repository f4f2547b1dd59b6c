#include "cli/netboot_serve_cmd.h"

#include <cstdio>

#include "netboot/boot_switch.h"
#include "os/env.h"
#include "util/log.h"

namespace ka::cli {

namespace {

int Fail(const Status& s) {
  LogError("{}", s.message());
  return s.code() == Status::Code::kInvalid ? 2 : 1;
}

}  // namespace

NetbootServeCommand::NetbootServeCommand(CLI::App& netboot) {
  cmd_ = netboot.add_subcommand(
      "serve", "Serve network boot (DHCP or proxy-DHCP, TFTP) with dnsmasq; switch machines between local/kamethod");
  auto& o = o_;
  cmd_->add_option("dir", dir_, "The directory of `ka netboot build -o DIR` (its tftp/ is served)");
  cmd_->add_option("--tftp-root", o.tftp_root, "Serve this TFTP root instead of DIR/tftp");
  cmd_->add_option("--state-dir", o.state_dir, "Where dnsmasq.conf, leases and the pid file go (default: DIR/dnsmasq)");
  cmd_->add_option("-i,--interface", o.dnsmasq.interface, "Network interface of the boot network");
  cmd_->add_option("--dhcp-range", o.dnsmasq.dhcp_range,
                   "Be the DHCP server, leasing START,END[,NETMASK][,LEASE] (e.g. 10.0.0.100,10.0.0.199,12h)");
  proxy_opt_ = cmd_->add_option("--proxy-dhcp", o.dnsmasq.proxy_network,
                                "Proxy-DHCP next to the network's DHCP server; optional NET/PREFIX (default: the "
                                "interface's network). Put DIR before it or write --proxy-dhcp=NET")
                   ->expected(0, 1);
  cmd_->add_option("--host", hosts_, "Fixed lease MAC,IP[,NAME] (repeatable; needs --dhcp-range)")
      ->allow_extra_args(false);
  cmd_->add_flag("--authoritative", o.dnsmasq.authoritative, "dhcp-authoritative: the only DHCP server here");
  cmd_->add_flag("--ipv6-ra", o.dnsmasq.ipv6_ra,
                 "Send IPv6 router adverts so iPXE does not wait for IPv6 autoconfiguration (needs an IPv6 address)");
  cmd_->add_flag("--log-dhcp", o.dnsmasq.log_dhcp, "Log every DHCP exchange");
  cmd_->add_option("--server", o.boot.server, "ka serve's address IP[:PORT] for stage1 (default: found by broadcast)");
  cmd_->add_option("-s,--session", o.boot.session, "Session name given to stage1")->capture_default_str();
  cmd_->add_option("--tries", o.boot.tries, "ka.tries: attempts to join the session")->capture_default_str();
  cmd_->add_option("--fail", o.boot.fail, "ka.fail: after the last failed try")
      ->check(CLI::IsMember({"reboot", "poweroff", "shell"}))
      ->capture_default_str();
  cmd_->add_option("--then", o.boot.then, "ka.then: after a successful clone")
      ->check(CLI::IsMember({"reboot", "poweroff", "exit"}))
      ->capture_default_str();
  cmd_->add_option("--disk", o.boot.disk, "ka.disk: the target disk (default: stage1 chooses)");
  cmd_->add_option("--append", o.boot.extra_args, "Extra kernel arguments for stage1");
  cmd_->add_option("--default", default_choice_, "What machines without their own choice boot")
      ->check(CLI::IsMember({"local", "kamethod", "rescue"}))
      ->capture_default_str();
  cmd_->add_option("--timeout", o.boot.timeout_ds, "pxelinux TIMEOUT in tenths of a second")->capture_default_str();
  cmd_->add_option("--trust-key", o.trust_key_file,
                   "FILE: the golden's public key (ka.pub of `ka key new`, or its line): ka.trust= for stage1, "
                   "whose nodes then accept only a stream signed by it");
  cmd_->add_option("--operator-key", o.operator_key_file,
                   "FILE: an operator's public key (or its line): ka.operator= for stage1, whose nodes then run "
                   "`ka exec` commands only when signed by it");
  cmd_->add_option("--secret-file", o.secret_file,
                   "Also serve ka/secret.img holding this session secret: ANYONE on the boot network can fetch it "
                   "(prefer --trust-key; see docs/netboot.md)")
      ->check(CLI::ExistingFile);
  cmd_->add_flag("--print", o.print, "Print the generated files; write and run nothing");
  cmd_->add_flag("--no-run", o.no_run, "Write the files but do not start dnsmasq");
  cmd_->add_option("--dnsmasq", o.dnsmasq_binary, "The dnsmasq binary")->capture_default_str();
  cmd_->add_option("--set-boot", set_boot_,
                   "MAC=local|kamethod|rescue: what this machine boots next (repeatable); only switches")
      ->allow_extra_args(false);
  cmd_->add_option("--clear-boot", clear_boot_, "MAC: the machine follows --default again (repeatable)")
      ->allow_extra_args(false);
  cmd_->add_option("--show-boot", show_boot_, "MAC: print what the machine boots (repeatable)")
      ->allow_extra_args(false);
  cmd_->footer(R"(
Trust on the boot network (docs/netboot.md, "Keys and the secret on the boot network"):
  --trust-key FILE     puts ka.trust=ka-ed25519:... on the stage1 kernel command line: the nodes
                       accept only a stream signed by the golden's key (integrity, even on a shared
                       network). Make the key on the golden with `ka key new /etc/ka/golden`.
  --operator-key FILE  puts ka.operator=ka-ed25519:...: `ka exec` commands run on the nodes only
                       when signed by that operator's key.
  --secret-file FILE   serves the shared secret as ka/secret.img by TFTP, which anyone on the boot
                       network can fetch: it then gives only the session's confidentiality, on a
                       boot VLAN you trust. ka warns loudly when it is used.
Public keys are not secret: kernel command lines and TFTP may carry them. Key files are checked at
start (a secret key file, a damaged key or a weak or world-readable secret file is refused).)");
}

bool NetbootServeCommand::parsed() const { return cmd_->parsed(); }

int NetbootServeCommand::Run(bool verbose) {
  InitLogging("netboot-serve", verbose);
  if (o_.tftp_root.empty()) {
    if (dir_.empty()) return Fail(Status::Invalid("give DIR (from `ka netboot build -o DIR`) or --tftp-root"));
    o_.tftp_root = dir_ + "/tftp";
  } else if (!dir_.empty()) {
    return Fail(Status::Invalid("give DIR or --tftp-root, not both"));
  }
  if (!set_boot_.empty() || !clear_boot_.empty() || !show_boot_.empty()) return RunBootSwitch();

  o_.dnsmasq.proxy = proxy_opt_->count() > 0;
  auto choice = netboot::ParseBootChoice(default_choice_);
  if (!choice.ok()) return Fail(choice.status());
  o_.boot.default_choice = *choice;
  for (const auto& h : hosts_) {
    auto host = netboot::ParseDhcpHost(h);
    if (!host.ok()) return Fail(host.status());
    o_.dnsmasq.hosts.push_back(*host);
  }
  Status s = netboot::Serve(o_, stdout);
  return s.ok() ? 0 : Fail(s);
}

int NetbootServeCommand::RunBootSwitch() {
  for (const auto& spec : set_boot_) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos) {
      return Fail(Status::Invalid("--set-boot '" + spec + "': write MAC=local|kamethod|rescue"));
    }
    auto c = netboot::ParseBootChoice(spec.substr(eq + 1));
    if (!c.ok()) return Fail(c.status().Wrap("--set-boot"));
    Status s = netboot::SetNodeBoot(os::DefaultEnv(), o_.tftp_root, spec.substr(0, eq), *c);
    if (!s.ok()) return Fail(s);
    LogInfo("{} boots {} from now on", spec.substr(0, eq), netboot::BootChoiceName(*c));
  }
  for (const auto& mac : clear_boot_) {
    Status s = netboot::ClearNodeBoot(os::DefaultEnv(), o_.tftp_root, mac);
    if (!s.ok()) return Fail(s);
    LogInfo("{} follows the default menu again", mac);
  }
  for (const auto& mac : show_boot_) {
    auto c = netboot::GetNodeBoot(os::DefaultEnv(), o_.tftp_root, mac);
    if (!c.ok()) return Fail(c.status());
    std::printf("%s %s\n", mac.c_str(), netboot::BootChoiceName(*c));
  }
  return 0;
}

}  // namespace ka::cli
