#include "netboot/boot_switch.h"

#include <cctype>
#include <sstream>

#include <fmt/format.h>

#include "netboot/grub_config.h"
#include "util/fd.h"

namespace ka::netboot {

namespace {

std::string Hyphens(const std::string& mac) {
  std::string s = mac;
  for (char& ch : s) {
    if (ch == ':') ch = '-';
  }
  return s;
}

}  // namespace

Result<std::string> ParseMac(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return Status::Invalid(fmt::format(
        "MAC address '{}': {}; write it as aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF or 01-aa-bb-cc-dd-ee-ff", text, why));
  };
  std::string s = text;
  // BOOTIF form: hardware type 01 (Ethernet) in front.
  if (s.size() == 20 && s.rfind("01-", 0) == 0) s = s.substr(3);
  if (s.size() != 17) return bad("not 6 bytes");
  const char sep = s[2];
  if (sep != ':' && sep != '-') return bad("separate the bytes with ':' or '-'");
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const char ch = s[i];
    if (i % 3 == 2) {
      if (ch != sep) return bad("mixed or misplaced separators");
      out += ':';
    } else {
      if (!std::isxdigit(static_cast<unsigned char>(ch))) return bad(fmt::format("'{}' is not a hex digit", ch));
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
  }
  return out;
}

std::string PxelinuxMacFile(const std::string& mac) { return "pxelinux.cfg/01-" + Hyphens(mac); }
std::string IpxeMacFile(const std::string& mac) { return "ka/mac-" + Hyphens(mac) + ".ipxe"; }

Status SetNodeBoot(os::Env& env, const std::string& tftp_root, const std::string& mac_text, BootChoice c) {
  auto mac = ParseMac(mac_text);
  if (!mac.ok()) return mac.status();
  const std::string hint = "; write the menus first with `ka netboot serve DIR --no-run ...`";
  auto pxe = env.ReadFile(tftp_root + "/pxelinux.cfg/default");
  if (!pxe.ok()) return Status::Io(pxe.status().message() + hint);
  auto ipxe = env.ReadFile(tftp_root + "/ka/boot.ipxe");
  if (!ipxe.ok()) return Status::Io(ipxe.status().message() + hint);
  auto pxe_mac = WithPxelinuxDefault(*pxe, c);
  if (!pxe_mac.ok()) return pxe_mac.status().Wrap(tftp_root + "/pxelinux.cfg/default");
  auto ipxe_mac = WithIpxeChoice(*ipxe, c);
  if (!ipxe_mac.ok()) return ipxe_mac.status().Wrap(tftp_root + "/ka/boot.ipxe");
  // 0644: dnsmasq's TFTP server runs unprivileged.
  KA_RETURN_IF_ERROR(env.WriteFile(tftp_root + "/" + PxelinuxMacFile(*mac), *pxe_mac, 0644));
  KA_RETURN_IF_ERROR(env.WriteFile(tftp_root + "/" + IpxeMacFile(*mac), *ipxe_mac, 0644));
  // A Secure Boot build's GRUB menu (grub/grub.cfg) sources grub/ka/mac-<mac>.cfg.
  if (env.FileExists(tftp_root + "/" + kGrubConfig)) {
    KA_RETURN_IF_ERROR(env.MakeDirs(tftp_root + "/grub/ka"));
    KA_RETURN_IF_ERROR(env.WriteFile(tftp_root + "/" + GrubMacFile(*mac), RenderGrubMacConfig(c), 0644));
  }
  return Status::Ok();
}

Result<BootChoice> GetNodeBoot(os::Env& env, const std::string& tftp_root, const std::string& mac_text) {
  auto mac = ParseMac(mac_text);
  if (!mac.ok()) return mac.status();
  const std::string per_mac = tftp_root + "/" + PxelinuxMacFile(*mac);
  const std::string grub_mac = tftp_root + "/" + GrubMacFile(*mac);
  if (!env.FileExists(per_mac) && env.FileExists(grub_mac)) {
    auto text = env.ReadFile(grub_mac);
    if (!text.ok()) return text.status();
    auto c = GrubMacChoice(*text);
    if (!c.ok()) return c.status().Wrap(grub_mac);
    return c;
  }
  std::string path = env.FileExists(per_mac) ? per_mac : tftp_root + "/pxelinux.cfg/default";
  auto text = env.ReadFile(path);
  if (!text.ok()) return text.status();
  auto c = PxelinuxDefault(*text);
  if (!c.ok()) return c.status().Wrap(path);
  return c;
}

Status ClearNodeBoot(os::Env& env, const std::string& tftp_root, const std::string& mac_text) {
  auto mac = ParseMac(mac_text);
  if (!mac.ok()) return mac.status();
  for (const std::string& f : {PxelinuxMacFile(*mac), IpxeMacFile(*mac), GrubMacFile(*mac)}) {
    KA_RETURN_IF_ERROR(env.RemoveFile(tftp_root + "/" + f));
  }
  return Status::Ok();
}

}  // namespace ka::netboot
