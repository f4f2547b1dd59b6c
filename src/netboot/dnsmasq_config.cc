#include "netboot/dnsmasq_config.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "netboot/boot_switch.h"

namespace ka::netboot {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) return out;
    start = p + 1;
  }
}

// Lease time as dnsmasq takes it: seconds, or a number with m/h/d/w, or "infinite".
bool IsLeaseTime(const std::string& s) {
  if (s == "infinite") return true;
  if (s.empty()) return false;
  size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  if (digits == 0) return false;
  if (digits == s.size()) return true;
  return digits + 1 == s.size() && std::string("smhdw").find(s.back()) != std::string::npos;
}

bool IsHostName(const std::string& s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (char ch : s) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-') return false;
  }
  return true;
}

Result<int> PrefixOfMask(uint32_t mask) {
  int prefix = 0;
  while (prefix < 32 && (mask & (uint32_t{1} << (31 - prefix))) != 0) ++prefix;
  uint32_t expect = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  if (expect != mask) return Status::Invalid(fmt::format("netmask {} is not contiguous", FormatIpv4(mask)));
  return prefix;
}

bool FileExists(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

}  // namespace

Result<InterfaceInfo> LookupInterface(const std::string& name) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return Status::Io(ErrnoMessage("listing network interfaces (getifaddrs)", errno));
  std::unique_ptr<ifaddrs, void (*)(ifaddrs*)> owner(list, freeifaddrs);
  InterfaceInfo info;
  bool found = false, has_v4 = false;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_name == nullptr || name != i->ifa_name) continue;
    found = true;
    if (i->ifa_addr == nullptr) continue;
    if (i->ifa_addr->sa_family == AF_INET6) info.has_ipv6 = true;
    if (i->ifa_addr->sa_family == AF_INET && !has_v4 && i->ifa_netmask != nullptr) {
      uint32_t a = ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr);
      uint32_t m = ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_netmask)->sin_addr.s_addr);
      auto prefix = PrefixOfMask(m);
      if (!prefix.ok()) continue;
      info.ipv4 = Ipv4Net{a, *prefix};
      has_v4 = true;
    }
  }
  if (!found && if_nametoindex(name.c_str()) == 0) {
    return Status::Invalid(fmt::format("network interface '{}' does not exist (see `ip link`)", name));
  }
  if (!has_v4) {
    return Status::Invalid(fmt::format(
        "network interface '{}' has no IPv4 address: give it one (ip addr add 10.0.0.1/24 dev {})", name, name));
  }
  return info;
}

Result<DhcpHost> ParseDhcpHost(const std::string& spec) {
  auto parts = Split(spec, ',');
  if (parts.size() < 2 || parts.size() > 3) {
    return Status::Invalid(fmt::format("--host '{}': write MAC,IP[,NAME]", spec));
  }
  auto mac = ParseMac(parts[0]);
  if (!mac.ok()) return mac.status().Wrap("--host '" + spec + "'");
  auto ip = ParseIpv4(parts[1], "--host '" + spec + "'");
  if (!ip.ok()) return ip.status();
  DhcpHost h{*mac, parts[1], parts.size() == 3 ? parts[2] : ""};
  if (parts.size() == 3 && !IsHostName(h.name)) {
    return Status::Invalid(fmt::format("--host '{}': the name '{}' may hold only letters, digits and '-'", spec,
                                       h.name));
  }
  return h;
}

Result<std::string> RenderDnsmasqConfig(const DnsmasqOptions& o, const std::optional<InterfaceInfo>& iface) {
  if (o.interface.empty()) return Status::Invalid("--interface: name the network interface of the boot network");
  if (o.proxy == !o.dhcp_range.empty()) {
    return Status::Invalid(
        "give exactly one of --dhcp-range START,END (ka serves DHCP) or --proxy-dhcp (the network has a DHCP "
        "server)");
  }
  if (o.tftp_root.empty() || o.tftp_root[0] != '/') {
    return Status::Invalid(fmt::format("TFTP root '{}' must be an absolute path", o.tftp_root));
  }
  if (o.state_dir.empty() || o.state_dir[0] != '/') {
    return Status::Invalid(fmt::format("state directory '{}' must be an absolute path", o.state_dir));
  }
  for (const std::string& p : {o.tftp_root, o.state_dir, o.interface}) {
    if (p.find_first_of(" \t\r\n,#\"") != std::string::npos) {
      return Status::Invalid(fmt::format("'{}' contains a space, ',', '#' or '\"', which dnsmasq.conf cannot hold", p));
    }
  }
  if (o.ipv6_ra && iface && !iface->has_ipv6) {
    return Status::Invalid(fmt::format(
        "--ipv6-ra: interface '{}' has no IPv6 address; add one (ip -6 addr add fd00:ka::1/64 dev {}) or drop "
        "--ipv6-ra",
        o.interface, o.interface));
  }

  std::string s;
  s += "# dnsmasq configuration written by `ka netboot serve`; it is rewritten on every run.\n";
  s += "# No DNS; DHCP and TFTP on the boot network's interface only.\n";
  s += "port=0\n";
  s += fmt::format("interface={}\n", o.interface);
  s += "bind-interfaces\n";
  s += "log-facility=-\n";
  if (o.log_dhcp) s += "log-dhcp\n";
  s += "enable-tftp\n";
  s += fmt::format("tftp-root={}\n", o.tftp_root);
  s += fmt::format("dhcp-leasefile={}/leases\n", o.state_dir);
  s += fmt::format("pid-file={}/dnsmasq.pid\n", o.state_dir);
  s += "\n# x86-64 UEFI firmware (client-arch 7 or 9); iPXE says so in its user class.\n";
  s += "dhcp-match=set:efi64,option:client-arch,7\n";
  s += "dhcp-match=set:efi64,option:client-arch,9\n";
  s += "dhcp-userclass=set:ipxe,iPXE\n";

  if (!o.dhcp_range.empty()) {
    auto parts = Split(o.dhcp_range, ',');
    const std::string what = "--dhcp-range '" + o.dhcp_range + "'";
    if (parts.size() < 2 || parts.size() > 4) return Status::Invalid(what + ": write START,END[,NETMASK][,LEASE]");
    auto start = ParseIpv4(parts[0], what);
    if (!start.ok()) return start.status();
    auto end = ParseIpv4(parts[1], what);
    if (!end.ok()) return end.status();
    if (*end < *start) return Status::Invalid(what + ": the end address is below the start address");
    std::optional<Ipv4Net> net;
    if (iface) net = iface->ipv4;
    for (size_t i = 2; i < parts.size(); ++i) {
      if (IsLeaseTime(parts[i]) && i + 1 == parts.size()) continue;
      if (i != 2) return Status::Invalid(what + ": '" + parts[i] + "' is not a lease time (e.g. 12h, 30m, infinite)");
      auto m = ParseIpv4(parts[i], what + ": netmask");
      if (!m.ok()) return Status::Invalid(what + ": '" + parts[i] + "' is neither a netmask nor a lease time");
      auto prefix = PrefixOfMask(*m);
      if (!prefix.ok()) return prefix.status().Wrap(what);
      if (!net) net = Ipv4Net{*start, *prefix};
    }
    if (net) {
      for (uint32_t a : {*start, *end}) {
        if (!net->Contains(a)) {
          return Status::Invalid(fmt::format("{}: {} is outside {}'s network {}/{}", what, FormatIpv4(a),
                                             o.interface, FormatIpv4(net->Network()), net->prefix));
        }
      }
      if (iface && *start <= iface->ipv4.addr && iface->ipv4.addr <= *end) {
        return Status::Invalid(fmt::format("{}: the range holds {}'s own address {}; start it above or end it below",
                                           what, o.interface, FormatIpv4(iface->ipv4.addr)));
      }
    }
    std::set<std::string> macs, ips;
    for (const DhcpHost& h : o.hosts) {
      auto hm = ParseMac(h.mac);
      if (!hm.ok()) return hm.status().Wrap("--host");
      auto ip = ParseIpv4(h.ip, "--host " + h.mac);
      if (!ip.ok()) return ip.status();
      if (net && !net->Contains(*ip)) {
        return Status::Invalid(fmt::format("--host {},{}: the address is outside {}'s network {}/{}", h.mac, h.ip,
                                           o.interface, FormatIpv4(net->Network()), net->prefix));
      }
      if (!macs.insert(*hm).second) return Status::Invalid(fmt::format("--host: MAC {} is given twice", *hm));
      if (!ips.insert(h.ip).second) return Status::Invalid(fmt::format("--host: address {} is given twice", h.ip));
    }
    s += "\n# Full DHCP server.\n";
    s += fmt::format("dhcp-range={}\n", o.dhcp_range);
    if (o.authoritative) s += "dhcp-authoritative\n";
    for (const DhcpHost& h : o.hosts) {
      s += fmt::format("dhcp-host={},{}{}\n", *ParseMac(h.mac), h.ip, h.name.empty() ? "" : "," + h.name);
    }
    if (o.uefi == UefiLoader::kShim) {
      s += "# BIOS (also QEMU's iPXE ROM): pxelinux. UEFI (Secure Boot build): shim, which loads\n";
      s += "# grubx64.efi (Debian's signed GRUB) from the same directory, which reads grub/grub.cfg.\n";
      s += "dhcp-boot=tag:!efi64,pxelinux.0\n";
      s += "dhcp-boot=tag:efi64,shimx64.efi\n";
    } else {
      s += "# BIOS (also QEMU's iPXE ROM): pxelinux. UEFI: ipxe.efi, then the iPXE script.\n";
      s += "dhcp-boot=tag:!efi64,pxelinux.0\n";
      s += "dhcp-boot=tag:efi64,tag:!ipxe,ipxe.efi\n";
      s += "dhcp-boot=tag:efi64,tag:ipxe,ka/boot.ipxe\n";
    }
  } else {
    if (!o.hosts.empty()) return Status::Invalid("--host needs --dhcp-range: in proxy mode another server leases addresses");
    if (o.authoritative) return Status::Invalid("--authoritative needs --dhcp-range");
    Ipv4Net net;
    if (!o.proxy_network.empty()) {
      auto n = ParseIpv4Net(o.proxy_network);
      if (!n.ok()) return n.status().Wrap("--proxy-dhcp");
      net = *n;
    } else if (iface) {
      net = iface->ipv4;
    } else {
      return Status::Invalid(fmt::format(
          "--proxy-dhcp: interface '{}' was not found, so give the network explicitly (--proxy-dhcp 10.0.0.0/24)",
          o.interface));
    }
    s += "\n# Proxy DHCP: the network's DHCP server leases addresses, dnsmasq adds the boot file.\n";
    s += fmt::format("dhcp-range={},proxy,{}\n", FormatIpv4(net.Network()), FormatIpv4(net.Mask()));
    if (o.uefi == UefiLoader::kShim) {
      s += "# BIOS (also QEMU's iPXE ROM): pxelinux(.0). UEFI (Secure Boot build): shim, then GRUB.\n";
      s += "pxe-service=x86PC,\"Network boot (ka)\",pxelinux\n";
      for (const char* csa : {"x86-64_EFI", "BC_EFI"}) {
        s += fmt::format("pxe-service={},\"Network boot (ka)\",shimx64.efi\n", csa);
      }
    } else {
      s += "# BIOS (also QEMU's iPXE ROM): pxelinux(.0). UEFI: ipxe.efi, then the iPXE script.\n";
      s += "pxe-service=x86PC,\"Network boot (ka)\",pxelinux\n";
      for (const char* csa : {"x86-64_EFI", "BC_EFI"}) {
        s += fmt::format("pxe-service=tag:!ipxe,{},\"Network boot (ka)\",ipxe.efi\n", csa);
        s += fmt::format("pxe-service=tag:ipxe,{},\"Network boot (ka)\",ka/boot.ipxe\n", csa);
      }
    }
  }
  if (o.ipv6_ra) {
    s += "\n# Router adverts only, so iPXE's IPv6 autoconfiguration ends at once.\n";
    s += "enable-ra\n";
    s += fmt::format("dhcp-range=::,constructor:{},ra-only\n", o.interface);
  }
  return s;
}

Status CheckTftpRoot(const std::string& tftp_root, UefiLoader uefi) {
  std::vector<std::string> needed = {"pxelinux.0", "ldlinux.c32", "ka/vmlinuz", "ka/stage1.img"};
  if (uefi == UefiLoader::kShim) needed.insert(needed.end(), {"shimx64.efi", "grubx64.efi"});
  std::vector<std::string> missing;
  for (const std::string& f : needed) {
    if (!FileExists(tftp_root + "/" + f)) missing.push_back(f);
  }
  if (missing.empty()) {
    // dnsmasq drops root and serves TFTP as an unprivileged user (nobody): every
    // directory up to the root must be searchable and the boot files readable by others.
    std::error_code ec;
    fs::path dir = fs::weakly_canonical(fs::absolute(tftp_root), ec);
    for (fs::path p = dir; !p.empty(); p = p.parent_path()) {
      struct stat st {};
      if (::stat(p.c_str(), &st) == 0 && !(st.st_mode & S_IXOTH))
        return Status::Invalid(fmt::format(
            "dnsmasq serves TFTP as an unprivileged user, but {} is not searchable by others (mode {:04o}): "
            "chmod o+x {} or build into a directory others can reach",
            p.string(), st.st_mode & 07777, p.string()));
      if (p == p.root_path()) break;
    }
    for (const std::string& f : needed) {
      struct stat st {};
      std::string path = tftp_root + "/" + f;
      if (::stat(path.c_str(), &st) == 0 && !(st.st_mode & S_IROTH))
        return Status::Invalid(fmt::format(
            "dnsmasq serves TFTP as an unprivileged user, but {} is not readable by others (mode {:04o}): chmod o+r it",
            path, st.st_mode & 07777));
    }
    return Status::Ok();
  }
  std::string list;
  for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
  return Status::Invalid(
      fmt::format("TFTP root {} lacks {}: build the boot files first with `ka netboot build -o DIR{}` and serve DIR",
                  tftp_root, list, uefi == UefiLoader::kShim ? " --secure-boot" : ""));
}

std::vector<std::string> MissingUefiFiles(const std::string& tftp_root) {
  std::vector<std::string> missing;
  if (!FileExists(tftp_root + "/ipxe.efi")) missing.push_back("ipxe.efi");
  return missing;
}

}  // namespace ka::netboot
