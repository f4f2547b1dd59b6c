// `ka netboot serve`: writes the boot menus (pxelinux.cfg/default, ka/boot.ipxe,
// and grub/grub.cfg when DIR/build.json says it is a Secure Boot build),
// the optional ka/secret.img and dnsmasq.conf, then runs dnsmasq in the
// foreground until SIGINT/SIGTERM. --print shows the files instead.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "netboot/dnsmasq_config.h"
#include "netboot/pxe_config.h"
#include "os/env.h"
#include "util/status.h"

namespace ka::netboot {

struct ServeOptions {
  std::string tftp_root;    // DIR/tftp
  std::string state_dir;    // default: DIR/dnsmasq (next to tftp/)
  BootParams boot;
  DnsmasqOptions dnsmasq;   // tftp_root and state_dir are filled in from the above
  std::string secret_file;  // empty: no ka/secret.img (readable by anyone on the boot network)
  std::string trust_key_file;     // --trust-key: the golden's public key (ka.trust=), or empty
  std::string operator_key_file;  // --operator-key: the operator's public key (ka.operator=), or empty
  bool print = false;       // print the files, write and run nothing
  bool no_run = false;      // write the files, do not start dnsmasq
  std::string dnsmasq_binary = "/usr/sbin/dnsmasq";
};

struct GeneratedFile {
  std::string path;     // absolute
  std::string content;
  unsigned mode = 0644;
  bool printable = true;  // text shown by --print (the secret image is not)
};

// Validates everything and returns the files to write, without touching the disk
// (reads the secret and key files and looks up the interface). The secret file must
// pass crypto::LoadSecret (not world-readable, not weak); key files crypto::LoadPublicKey.
Result<std::vector<GeneratedFile>> PlanServe(ServeOptions o);

// "# ---- path ----" followed by each printable file.
std::string FormatForPrint(const std::vector<GeneratedFile>& files);

// Creates directories and writes every file atomically.
Status WriteServeFiles(os::Env& env, const std::vector<GeneratedFile>& files);

// Runs `binary --keep-in-foreground --conf-file=conf`, forwarding SIGINT and
// SIGTERM to it. Ok when it ended because of a forwarded signal; otherwise an
// error holding the end of its stderr.
Status RunDnsmasq(const std::string& binary, const std::string& conf);

// Syntax check by dnsmasq itself: `binary --test --conf-file=conf`.
Status TestDnsmasqConfig(const std::string& binary, const std::string& conf);

// What the operator must be told about the trust material of `o`, one line each: the
// loud warning that --secret-file exposes the secret to the boot network, and the
// fingerprints of the keys the nodes are given. Logged by Serve.
std::vector<std::string> TrustWarnings(const ServeOptions& o);
std::vector<std::string> TrustNotes(const ServeOptions& o);

// The whole command: plan, then print, or write and (unless no_run) run.
Status Serve(const ServeOptions& o, std::FILE* out);

}  // namespace ka::netboot
