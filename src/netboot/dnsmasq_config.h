// dnsmasq.conf for `ka netboot serve`: TFTP from the build's tftp/ directory and
// either a full DHCP server (--dhcp-range) or proxy-DHCP next to an existing
// DHCP server (--proxy-dhcp). BIOS clients get pxelinux.0; x86-64 UEFI clients
// (client-arch 7 or 9) get ipxe.efi, and once iPXE runs, ka/boot.ipxe; or, from a
// Secure Boot build (UefiLoader::kShim), shimx64.efi, which loads grubx64.efi.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netboot/build_info.h"
#include "util/net.h"
#include "util/status.h"

namespace ka::netboot {

// The first IPv4 address of an interface (getifaddrs), and whether it has an IPv6 one.
struct InterfaceInfo {
  Ipv4Net ipv4;
  bool has_ipv6 = false;
};
// Status::Invalid naming the interface when it does not exist or has no IPv4 address.
Result<InterfaceInfo> LookupInterface(const std::string& name);

struct DhcpHost {
  std::string mac;   // aa:bb:cc:dd:ee:ff
  std::string ip;
  std::string name;  // optional host name
};
// "MAC,IP[,NAME]" as given to --host.
Result<DhcpHost> ParseDhcpHost(const std::string& spec);

struct DnsmasqOptions {
  std::string interface;
  std::string tftp_root;   // absolute
  std::string state_dir;   // absolute; leases and pid file
  std::string dhcp_range;  // "START,END[,NETMASK][,LEASE]" (full DHCP mode)
  bool proxy = false;      // proxy-DHCP mode
  std::string proxy_network;  // "NET[/PREFIX]"; empty: the interface's network
  std::vector<DhcpHost> hosts;
  bool ipv6_ra = false;
  bool log_dhcp = false;
  bool authoritative = false;
  UefiLoader uefi = UefiLoader::kIpxe;  // what x86-64 UEFI clients get
};

// Validates `o` (exactly one mode, range and hosts inside the interface's network
// when `iface` is known) and returns the file's text.
Result<std::string> RenderDnsmasqConfig(const DnsmasqOptions& o, const std::optional<InterfaceInfo>& iface);

// The files every node fetches must be there: pxelinux.0, ldlinux.c32,
// ka/vmlinuz, ka/stage1.img. The error names `ka netboot build -o DIR`.
// A Secure Boot build (kShim) must also have shimx64.efi and grubx64.efi.
Status CheckTftpRoot(const std::string& tftp_root, UefiLoader uefi = UefiLoader::kIpxe);
// UEFI boot files that are missing (ipxe.efi): UEFI nodes will not boot; a warning.
std::vector<std::string> MissingUefiFiles(const std::string& tftp_root);

}  // namespace ka::netboot
