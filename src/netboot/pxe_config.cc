#include "netboot/pxe_config.h"


#include <fmt/format.h>

#include <sstream>

#include "crypto/key_file.h"
#include "util/net.h"
#include "util/strings.h"

namespace ka::netboot {

namespace {

constexpr uint16_t kDefaultServerPort = 30765;
// The first command of ka/boot.ipxe: the per-MAC override, else the default.
constexpr const char* kIpxeOverride = "chain --replace mac-${netX/mac:hexhyp}.ipxe || goto ";

bool HasSpace(const std::string& s) { return s.find_first_of(" \t\r\n") != std::string::npos; }

std::string Initrds(const BootParams& p, const std::string& dir) {
  std::string s = dir + "stage1.img";
  if (p.secret) s += "," + dir + "secret.img";
  return s;
}

}  // namespace

const char* BootChoiceName(BootChoice c) {
  switch (c) {
    case BootChoice::kLocal:
      return "local";
    case BootChoice::kKamethod:
      return "kamethod";
    case BootChoice::kRescue:
      return "rescue";
  }
  return "?";
}

Result<BootChoice> ParseBootChoice(const std::string& s) {
  if (s == "local") return BootChoice::kLocal;
  if (s == "kamethod") return BootChoice::kKamethod;
  if (s == "rescue") return BootChoice::kRescue;
  return Status::Invalid(fmt::format("unknown boot choice '{}': use local, kamethod or rescue", s));
}

Status ValidateBootParams(const BootParams& p) {
  if (p.session.empty() || HasSpace(p.session)) {
    return Status::Invalid(fmt::format("--session '{}': give a name without spaces", p.session));
  }
  if (HasSpace(p.server)) return Status::Invalid(fmt::format("--server '{}': contains a space", p.server));
  if (p.tries < 1 || p.tries > 1000) {
    return Status::Invalid(fmt::format("--tries {}: give a count from 1 to 1000", p.tries));
  }
  if (p.fail != "reboot" && p.fail != "poweroff" && p.fail != "shell") {
    return Status::Invalid(fmt::format("--fail '{}': use reboot, poweroff or shell", p.fail));
  }
  if (p.then != "reboot" && p.then != "poweroff" && p.then != "exit") {
    return Status::Invalid(fmt::format("--then '{}': use reboot, poweroff or exit", p.then));
  }
  if (HasSpace(p.disk)) return Status::Invalid(fmt::format("--disk '{}': contains a space", p.disk));
  if (p.extra_args.find_first_of("\r\n") != std::string::npos) {
    return Status::Invalid("--append: the extra kernel arguments must be on one line");
  }
  for (const auto& [key, option] : {std::pair{&p.trust_key, "--trust-key"}, {&p.operator_key, "--operator-key"}}) {
    if (key->empty()) continue;
    auto k = crypto::ParsePublicKey(*key);
    if (!k.ok()) return k.status().Wrap(option);
    if (crypto::FormatPublicKey(*k) != *key) {
      return Status::Invalid(fmt::format("{}: give the key line as `ka key show` prints it", option));
    }
  }
  if (p.timeout_ds < 0 || p.timeout_ds > 36000) {
    return Status::Invalid(fmt::format("--timeout {}: give tenths of a second from 0 to 36000", p.timeout_ds));
  }
  return Status::Ok();
}

Result<std::string> NormalizeServer(const std::string& spec) {
  std::string host = spec;
  uint16_t port = kDefaultServerPort;
  if (size_t colon = spec.rfind(':'); colon != std::string::npos) {
    host = spec.substr(0, colon);
    const std::string ps = spec.substr(colon + 1);
    unsigned long v = 0;
    size_t used = 0;
    try {
      v = std::stoul(ps, &used);
    } catch (...) {
      used = 0;
    }
    if (ps.empty() || used != ps.size() || v == 0 || v > 65535) {
      return Status::Invalid(fmt::format("--server '{}': the port '{}' is not a number from 1 to 65535", spec, ps));
    }
    port = static_cast<uint16_t>(v);
  }
  if (!ParseIpv4(host, "--server").ok()) {
    return Status::Invalid(fmt::format(
        "--server '{}': give the server's IPv4 address (IP[:PORT]); stage1 resolves no names", spec));
  }
  return fmt::format("{}:{}", host, port);
}

std::string KernelArgs(const BootParams& p, BootChoice c) {
  std::string s = "console=tty0 console=ttyS0,115200n8";
  if (!p.server.empty()) s += " ka.server=" + p.server;
  s += " ka.session=" + p.session;
  s += fmt::format(" ka.tries={}", p.tries);
  s += " ka.fail=" + std::string(c == BootChoice::kRescue ? "shell" : p.fail);
  s += " ka.then=" + p.then;
  if (!p.disk.empty()) s += " ka.disk=" + p.disk;
  if (!p.trust_key.empty()) s += " ka.trust=" + p.trust_key;
  if (!p.operator_key.empty()) s += " ka.operator=" + p.operator_key;
  if (c == BootChoice::kRescue) s += " ka.rescue=1";
  if (!p.extra_args.empty()) s += " " + p.extra_args;
  return s;
}

std::string RenderPxelinuxConfig(const BootParams& p) {
  std::string s;
  s += "# ka network boot menu for BIOS nodes (pxelinux). Written by `ka netboot serve`;\n";
  s += "# switch one machine with `ka netboot serve --set-boot MAC=local|kamethod|rescue`.\n";
  s += fmt::format("DEFAULT {}\n", BootChoiceName(p.default_choice));
  s += "PROMPT 0\n";
  s += fmt::format("TIMEOUT {}\n", p.timeout_ds);
  s += "\nLABEL local\n  LOCALBOOT 0\n";
  for (BootChoice c : {BootChoice::kKamethod, BootChoice::kRescue}) {
    s += fmt::format("\nLABEL {}\n", BootChoiceName(c));
    s += "  KERNEL ka/vmlinuz\n";
    s += fmt::format("  APPEND initrd={} {}\n", Initrds(p, "ka/"), KernelArgs(p, c));
    s += "  IPAPPEND 2\n";
  }
  return s;
}

Result<std::string> WithPxelinuxDefault(const std::string& config, BootChoice c) {
  std::istringstream in(config);
  std::string line, out;
  bool found = false;
  while (std::getline(in, line)) {
    if (!found && line.rfind("DEFAULT ", 0) == 0) {
      line = fmt::format("DEFAULT {}", BootChoiceName(c));
      found = true;
    }
    out += line + "\n";
  }
  if (!found) return Status::Invalid("the pxelinux config has no DEFAULT line (not written by ka netboot serve?)");
  return out;
}

Result<BootChoice> PxelinuxDefault(const std::string& config) {
  std::istringstream in(config);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("DEFAULT ", 0) == 0) return ParseBootChoice(Trim(line.substr(8)));
  }
  return Status::Invalid("the pxelinux config has no DEFAULT line (not written by ka netboot serve?)");
}

std::string RenderIpxeScript(const BootParams& p) {
  std::string s;
  s += "#!ipxe\n";
  s += "# ka network boot menu for UEFI nodes (iPXE). Written by `ka netboot serve`;\n";
  s += "# switch one machine with `ka netboot serve --set-boot MAC=local|kamethod|rescue`.\n";
  s += "# File names are relative to this script's directory (ka/ in the TFTP root).\n";
  s += std::string(kIpxeOverride) + BootChoiceName(p.default_choice) + "\n";
  // exit 1, not 0: on EFI_SUCCESS EDK2 firmware opens its boot manager menu; on an error it
  // tries the next boot option (the local disk).
  s += "\n:local\necho ka: booting from the local disk\nexit 1\n";
  for (BootChoice c : {BootChoice::kKamethod, BootChoice::kRescue}) {
    const char* name = BootChoiceName(c);
    s += fmt::format("\n:{}\n", name);
    std::string initrd_args = "initrd=stage1.img";
    if (p.secret) initrd_args += " initrd=secret.img";
    s += fmt::format("kernel vmlinuz {} {} BOOTIF=01-${{netX/mac:hexhyp}} || goto failed\n", initrd_args,
                     KernelArgs(p, c));
    s += "initrd stage1.img || goto failed\n";
    if (p.secret) s += "initrd secret.img || goto failed\n";
    s += "boot || goto failed\n";
  }
  s += "\n:failed\necho ka: network boot failed, trying the next boot entry in 10 s\nsleep 10\nexit 1\n";
  return s;
}

Result<std::string> WithIpxeChoice(const std::string& script, BootChoice c) {
  std::istringstream in(script);
  std::string line, out;
  bool found = false;
  while (std::getline(in, line)) {
    if (!found && line.rfind(kIpxeOverride, 0) == 0) {
      line = fmt::format("goto {}", BootChoiceName(c));
      found = true;
    }
    out += line + "\n";
  }
  if (!found) return Status::Invalid("the iPXE script has no per-MAC chain line (not written by ka netboot serve?)");
  return out;
}

Result<BootChoice> IpxeChoice(const std::string& script) {
  std::istringstream in(script);
  std::string line;
  const std::string override_prefix = kIpxeOverride;
  while (std::getline(in, line)) {
    if (line.rfind(override_prefix, 0) == 0) return ParseBootChoice(Trim(line.substr(override_prefix.size())));
    if (line.rfind("goto ", 0) == 0) return ParseBootChoice(Trim(line.substr(5)));
  }
  return Status::Invalid("the iPXE script has no boot choice line (not written by ka netboot serve?)");
}

}  // namespace ka::netboot
