#include "netboot/dnsmasq_config.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace ka::netboot {
namespace {

namespace fs = std::filesystem;

bool HasLine(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

DnsmasqOptions Base() {
  DnsmasqOptions o;
  o.interface = "kabr0";
  o.tftp_root = "/srv/ka/tftp";
  o.state_dir = "/srv/ka/dnsmasq";
  return o;
}

InterfaceInfo Iface(const std::string& addr, int prefix, bool v6 = false) {
  InterfaceInfo i;
  i.ipv4 = Ipv4Net{ParseIpv4(addr, "test").value(), prefix};
  i.has_ipv6 = v6;
  return i;
}

TEST(DnsmasqConfig, DhcpMode) {
  DnsmasqOptions o = Base();
  o.dhcp_range = "10.0.0.100,10.0.0.199,12h";
  o.hosts.push_back({"52:54:00:00:00:01", "10.0.0.11", "node1"});
  o.hosts.push_back({"52:54:00:00:00:02", "10.0.0.12", ""});
  o.log_dhcp = true;
  o.authoritative = true;
  auto c = RenderDnsmasqConfig(o, Iface("10.0.0.1", 24));
  ASSERT_TRUE(c.ok()) << c.status().message();
  for (const char* line :
       {"port=0", "interface=kabr0", "bind-interfaces", "log-facility=-", "log-dhcp", "enable-tftp",
        "tftp-root=/srv/ka/tftp", "dhcp-leasefile=/srv/ka/dnsmasq/leases", "pid-file=/srv/ka/dnsmasq/dnsmasq.pid",
        "dhcp-match=set:efi64,option:client-arch,7", "dhcp-match=set:efi64,option:client-arch,9",
        "dhcp-userclass=set:ipxe,iPXE", "dhcp-range=10.0.0.100,10.0.0.199,12h", "dhcp-authoritative",
        "dhcp-host=52:54:00:00:00:01,10.0.0.11,node1", "dhcp-host=52:54:00:00:00:02,10.0.0.12",
        "dhcp-boot=tag:!efi64,pxelinux.0", "dhcp-boot=tag:efi64,tag:!ipxe,ipxe.efi",
        "dhcp-boot=tag:efi64,tag:ipxe,ka/boot.ipxe"}) {
    EXPECT_TRUE(HasLine(*c, line)) << line << "\n" << *c;
  }
  EXPECT_EQ(c->find("proxy"), std::string::npos);
  EXPECT_EQ(c->find("pxe-service"), std::string::npos);
  EXPECT_EQ(c->find("enable-ra"), std::string::npos);
}

TEST(DnsmasqConfig, SecureBootBuildsGiveUefiShim) {
  DnsmasqOptions o = Base();
  o.uefi = UefiLoader::kShim;
  o.dhcp_range = "10.0.0.100,10.0.0.199";
  auto c = RenderDnsmasqConfig(o, Iface("10.0.0.1", 24));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(HasLine(*c, "dhcp-boot=tag:!efi64,pxelinux.0")) << *c;
  EXPECT_TRUE(HasLine(*c, "dhcp-boot=tag:efi64,shimx64.efi")) << *c;
  EXPECT_TRUE(HasLine(*c, "dhcp-match=set:efi64,option:client-arch,7")) << *c;
  EXPECT_EQ(c->find("ipxe.efi"), std::string::npos) << *c;
  EXPECT_EQ(c->find("boot.ipxe"), std::string::npos) << *c;

  o.dhcp_range.clear();
  o.proxy = true;
  c = RenderDnsmasqConfig(o, Iface("10.0.0.1", 24));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(HasLine(*c, "pxe-service=x86PC,\"Network boot (ka)\",pxelinux")) << *c;
  EXPECT_TRUE(HasLine(*c, "pxe-service=x86-64_EFI,\"Network boot (ka)\",shimx64.efi")) << *c;
  EXPECT_TRUE(HasLine(*c, "pxe-service=BC_EFI,\"Network boot (ka)\",shimx64.efi")) << *c;
  EXPECT_EQ(c->find("ipxe.efi"), std::string::npos) << *c;
}

TEST(DnsmasqConfig, ProxyMode) {
  DnsmasqOptions o = Base();
  o.proxy = true;
  auto c = RenderDnsmasqConfig(o, Iface("192.168.7.33", 23));
  ASSERT_TRUE(c.ok()) << c.status().message();
  for (const char* line :
       {"dhcp-range=192.168.6.0,proxy,255.255.254.0", "pxe-service=x86PC,\"Network boot (ka)\",pxelinux",
        "pxe-service=tag:!ipxe,x86-64_EFI,\"Network boot (ka)\",ipxe.efi",
        "pxe-service=tag:ipxe,x86-64_EFI,\"Network boot (ka)\",ka/boot.ipxe",
        "pxe-service=tag:!ipxe,BC_EFI,\"Network boot (ka)\",ipxe.efi",
        "pxe-service=tag:ipxe,BC_EFI,\"Network boot (ka)\",ka/boot.ipxe", "dhcp-userclass=set:ipxe,iPXE"}) {
    EXPECT_TRUE(HasLine(*c, line)) << line << "\n" << *c;
  }
  EXPECT_EQ(c->find("dhcp-boot"), std::string::npos);
  EXPECT_EQ(c->find("dhcp-host"), std::string::npos);

  o.proxy_network = "172.16.0.0/16";
  c = RenderDnsmasqConfig(o, std::nullopt);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(HasLine(*c, "dhcp-range=172.16.0.0,proxy,255.255.0.0")) << *c;

  o.proxy_network.clear();
  auto e = RenderDnsmasqConfig(o, std::nullopt);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("--proxy-dhcp 10.0.0.0/24"), std::string::npos) << e.status().message();
}

TEST(DnsmasqConfig, Ipv6RouterAdverts) {
  DnsmasqOptions o = Base();
  o.dhcp_range = "10.0.0.100,10.0.0.199";
  o.ipv6_ra = true;
  auto c = RenderDnsmasqConfig(o, Iface("10.0.0.1", 24, true));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(HasLine(*c, "enable-ra"));
  EXPECT_TRUE(HasLine(*c, "dhcp-range=::,constructor:kabr0,ra-only"));
  auto e = RenderDnsmasqConfig(o, Iface("10.0.0.1", 24, false));
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("no IPv6 address"), std::string::npos);
}

TEST(DnsmasqConfig, Rejects) {
  auto fails = [](auto change, const std::string& expect, std::optional<InterfaceInfo> iface) {
    DnsmasqOptions o = Base();
    o.dhcp_range = "10.0.0.100,10.0.0.199";
    change(o);
    auto r = RenderDnsmasqConfig(o, iface);
    if (r.ok()) return ::testing::AssertionFailure() << "accepted";
    if (r.status().message().find(expect) == std::string::npos) {
      return ::testing::AssertionFailure() << "message: " << r.status().message();
    }
    return ::testing::AssertionSuccess();
  };
  auto net = std::optional<InterfaceInfo>(Iface("10.0.0.1", 24));
  EXPECT_TRUE(fails([](DnsmasqOptions& o) { o.dhcp_range = "10.0.0.100"; }, "START,END", net));
  EXPECT_TRUE(fails([](DnsmasqOptions& o) { o.dhcp_range = "10.0.0.300,10.0.0.310"; }, "not an IPv4 address", net));
  EXPECT_TRUE(fails([](DnsmasqOptions& o) { o.dhcp_range = "10.0.0.199,10.0.0.100"; }, "below the start", net));
  EXPECT_TRUE(fails([](DnsmasqOptions& o) { o.dhcp_range = "10.0.1.100,10.0.1.199"; }, "outside kabr0", net));
  EXPECT_TRUE(fails([](DnsmasqOptions& o) { o.dhcp_range = "10.0.0.1,10.0.0.50"; }, "own address", net));
  EXPECT_TRUE(fails([](DnsmasqOptions& o) { o.dhcp_range = "10.0.0.100,10.0.0.199,soon"; }, "netmask", net));
  EXPECT_TRUE(fails([](DnsmasqOptions& o) { o.dhcp_range = "10.0.0.100,10.0.0.199,255.0.255.0"; }, "contiguous",
                    net));
  // Without the interface the netmask bounds the range.
  EXPECT_TRUE(fails([](DnsmasqOptions& o) { o.dhcp_range = "10.0.0.100,10.0.1.199,255.255.255.0"; }, "outside",
                    std::nullopt));
  EXPECT_TRUE(fails([](DnsmasqOptions& o) { o.proxy = true; }, "exactly one", net));
  EXPECT_TRUE(fails(
      [](DnsmasqOptions& o) {
        o.dhcp_range.clear();
      },
      "exactly one", net));
  EXPECT_TRUE(fails([](DnsmasqOptions& o) { o.interface.clear(); }, "--interface", net));
  EXPECT_TRUE(fails([](DnsmasqOptions& o) { o.tftp_root = "rel/tftp"; }, "absolute", net));
  EXPECT_TRUE(fails([](DnsmasqOptions& o) { o.tftp_root = "/srv/my tftp"; }, "space", net));
  EXPECT_TRUE(fails([](DnsmasqOptions& o) { o.hosts.push_back({"zz", "10.0.0.5", ""}); }, "MAC address 'zz'", net));
  EXPECT_TRUE(fails([](DnsmasqOptions& o) { o.hosts.push_back({"52:54:00:00:00:01", "10.9.0.5", ""}); }, "outside",
                    net));
  EXPECT_TRUE(fails(
      [](DnsmasqOptions& o) {
        o.hosts.push_back({"52:54:00:00:00:01", "10.0.0.5", ""});
        o.hosts.push_back({"52-54-00-00-00-01", "10.0.0.6", ""});
      },
      "given twice", net));
  EXPECT_TRUE(fails(
      [](DnsmasqOptions& o) {
        o.dhcp_range.clear();
        o.proxy = true;
        o.hosts.push_back({"52:54:00:00:00:01", "10.0.0.5", ""});
      },
      "--host needs --dhcp-range", net));
}

TEST(DnsmasqConfig, ParseDhcpHost) {
  auto h = ParseDhcpHost("52-54-00-00-00-0A,10.0.0.10,node10");
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->mac, "52:54:00:00:00:0a");
  EXPECT_EQ(h->ip, "10.0.0.10");
  EXPECT_EQ(h->name, "node10");
  EXPECT_TRUE(ParseDhcpHost("52:54:00:00:00:0a,10.0.0.10").ok());
  EXPECT_FALSE(ParseDhcpHost("52:54:00:00:00:0a").ok());
  EXPECT_FALSE(ParseDhcpHost("52:54:00:00:00:0a,10.0.0").ok());
  EXPECT_FALSE(ParseDhcpHost("52:54:00:00:00:0a,10.0.0.10,bad_name").ok());
  EXPECT_FALSE(ParseDhcpHost("nonsense,10.0.0.10").ok());
}

TEST(DnsmasqConfig, LookupInterface) {
  auto lo = LookupInterface("lo");
  ASSERT_TRUE(lo.ok()) << lo.status().message();
  EXPECT_EQ(FormatIpv4(lo->ipv4.addr), "127.0.0.1");
  EXPECT_EQ(lo->ipv4.prefix, 8);
  auto none = LookupInterface("ka-no-such0");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("does not exist"), std::string::npos);
}

TEST(DnsmasqConfig, TftpRootCheck) {
  std::string t = (fs::temp_directory_path() / "ka-tftp-XXXXXX").string();
  const std::string root = ::mkdtemp(t.data());
  auto s = CheckTftpRoot(root);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("ka netboot build -o DIR"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("pxelinux.0, ldlinux.c32, ka/vmlinuz, ka/stage1.img"), std::string::npos)
      << s.message();
  fs::create_directories(root + "/ka");
  for (const char* f : {"pxelinux.0", "ldlinux.c32", "ka/vmlinuz"}) std::ofstream(root + "/" + f) << "x";
  s = CheckTftpRoot(root);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("lacks ka/stage1.img:"), std::string::npos) << s.message();
  std::ofstream(root + "/ka/stage1.img") << "x";
  // mkdtemp made it 0700: dnsmasq (running as nobody) could not enter it.
  s = CheckTftpRoot(root);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not searchable by others (mode 0700)"), std::string::npos) << s.message();
  fs::permissions(root, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(root + "/ka/stage1.img", fs::perms::owner_read | fs::perms::owner_write);
  s = CheckTftpRoot(root);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("stage1.img is not readable by others"), std::string::npos) << s.message();
  fs::permissions(root + "/ka/stage1.img", fs::perms::others_read, fs::perm_options::add);
  EXPECT_TRUE(CheckTftpRoot(root).ok());
  EXPECT_EQ(MissingUefiFiles(root), std::vector<std::string>{"ipxe.efi"});
  std::ofstream(root + "/ipxe.efi") << "x";
  EXPECT_TRUE(MissingUefiFiles(root).empty());
  fs::remove_all(root);
}

}  // namespace
}  // namespace ka::netboot
