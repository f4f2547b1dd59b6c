#include "node/individualise.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "node/root_fs.h"
#include "node/temp_tree_for_test.h"

namespace ka::node {
namespace {

const Identity kNode{7, "node7", "52:54:00:12:34:56", "10.0.0.7"};

bool Has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::string Joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

// A Debian 12 golden with systemd, NetworkManager, dhclient and networkd state.
void DebianGolden(const TempTree& t) {
  t.Symlink("usr/lib", "root/lib");
  t.Symlink("usr/bin", "root/bin");
  t.Write("root/usr/lib/systemd/systemd", "", 0755);
  t.Write("root/usr/bin/ssh-keygen", "", 0755);
  t.Write("root/usr/sbin/sshd", "", 0755);
  t.Write("root/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
  t.Write("root/etc/hostname", "golden\n");
  t.Write("root/etc/hosts",
          "127.0.0.1\tlocalhost\n127.0.1.1\tgolden.lab\tgolden # the golden\n\n"
          "::1     localhost ip6-localhost ip6-loopback\n10.0.0.1 golden-gw\n");
  t.Write("root/etc/machine-id", "0123456789abcdef0123456789abcdef\n", 0444);
  t.Symlink("/etc/machine-id", "root/var/lib/dbus/machine-id");
  t.Write("root/etc/ssh/sshd_config", "PermitRootLogin no\n");
  for (const char* k : {"rsa", "ecdsa", "ed25519"}) {
    t.Write(std::string("root/etc/ssh/ssh_host_") + k + "_key", "PRIVATE", 0600);
    t.Write(std::string("root/etc/ssh/ssh_host_") + k + "_key.pub", "PUBLIC");
  }
  t.Write("root/etc/udev/rules.d/70-persistent-net.rules", "SUBSYSTEM==\"net\", ATTR{address}==\"52:54:00:aa:bb:cc\"\n");
  t.Write("root/etc/udev/rules.d/75-persistent-net-generator.rules", "# a copy\n");
  t.Write("root/etc/udev/rules.d/99-local.rules", "# stays\n");
  t.Write("root/etc/NetworkManager/system-connections/Wired.nmconnection",
          "[connection]\nid=Wired\nuuid=4f3a\ntype=ethernet\n\n[ethernet]\nmac-address=52:54:00:AA:BB:CC\n"
          "cloned-mac-address = 52:54:00:AA:BB:CD\nmac-address-blacklist=\n\n[ipv4]\nmethod=auto\n",
          0600);
  t.Write("root/var/lib/dhcp/dhclient.eth0.leases", "lease {}\n");
  t.Write("root/var/lib/dhcp/dhclient6.leases", "default-duid \"x\";\n");
  t.Write("root/var/lib/dhcp/README", "stays\n");
  t.Write("root/var/lib/NetworkManager/internal-4f3a-eth0.lease", "ADDRESS=10.0.0.5\n");
  t.Write("root/var/lib/NetworkManager/dhclient-4f3a-eth0.lease", "lease {}\n");
  t.Write("root/var/lib/NetworkManager/NetworkManager.state", "[main]\n");
  t.Write("root/var/lib/NetworkManager/secret_key", "SECRET", 0600);
  t.Write("root/var/lib/systemd/network/dhcp-server-lease/eth1", "x\n");
  t.Write("root/var/lib/systemd/random-seed", "SEED", 0600);
  t.Write("root/var/lib/dhcpcd/eth0.lease", "x");
  t.Write("root/var/lib/dhcpcd/duid", "x");
}

Result<IndividualiseReport> Apply(const TempTree& t, IndividualiseOptions opt = {}, const Identity& id = kNode) {
  return Individualise(t / "root", id, opt);
}

TEST(NodeIndividualise, DebianSystemdGolden) {
  TempTree t;
  DebianGolden(t);
  auto r = Apply(t);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->hostname, "node7");
  EXPECT_EQ(r->golden_hostname, "golden");
  EXPECT_TRUE(r->systemd);
  EXPECT_EQ(r->ssh_keygen, SshKeygenWay::kSystemdUnit);

  EXPECT_EQ(t.Read("root/etc/hostname"), "node7\n");
  EXPECT_EQ(t.Read("root/etc/hosts"),
            "127.0.0.1\tlocalhost\n127.0.1.1\tnode7.lab\tnode7 # the golden\n\n"
            "::1     localhost ip6-localhost ip6-loopback\n10.0.0.1 golden-gw\n");
  EXPECT_EQ(t.Read("root/etc/machine-id"), "");
  EXPECT_EQ(t.Mode("root/etc/machine-id"), 0444u);
  EXPECT_TRUE(t.IsSymlink("root/var/lib/dbus/machine-id"));  // a symlink to /etc/machine-id stays

  for (const char* k : {"rsa", "ecdsa", "ed25519"}) {
    EXPECT_FALSE(t.Exists(std::string("root/etc/ssh/ssh_host_") + k + "_key"));
    EXPECT_FALSE(t.Exists(std::string("root/etc/ssh/ssh_host_") + k + "_key.pub"));
  }
  EXPECT_TRUE(t.Exists("root/etc/ssh/sshd_config"));
  std::string unit = t.Read("root/etc/systemd/system/ka-ssh-keygen.service");
  for (const char* line : {"Type=oneshot\n", "ExecStart=/usr/bin/ssh-keygen -A\n", "Before=ssh.service sshd.service\n",
                           "ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key\n", "WantedBy=multi-user.target\n"}) {
    EXPECT_NE(unit.find(line), std::string::npos) << line;
  }
  EXPECT_EQ(t.Mode("root/etc/systemd/system/ka-ssh-keygen.service"), 0644u);
  EXPECT_EQ(t.LinkText("root/etc/systemd/system/multi-user.target.wants/ka-ssh-keygen.service"),
            "/etc/systemd/system/ka-ssh-keygen.service");

  EXPECT_FALSE(t.Exists("root/etc/udev/rules.d/70-persistent-net.rules"));
  EXPECT_FALSE(t.Exists("root/etc/udev/rules.d/75-persistent-net-generator.rules"));
  EXPECT_TRUE(t.Exists("root/etc/udev/rules.d/99-local.rules"));
  EXPECT_EQ(t.Read("root/etc/NetworkManager/system-connections/Wired.nmconnection"),
            "[connection]\nid=Wired\nuuid=4f3a\ntype=ethernet\n\n[ethernet]\nmac-address-blacklist=\n\n[ipv4]\n"
            "method=auto\n");
  EXPECT_EQ(t.Mode("root/etc/NetworkManager/system-connections/Wired.nmconnection"), 0600u);

  for (const char* gone : {"var/lib/dhcp/dhclient.eth0.leases", "var/lib/dhcp/dhclient6.leases",
                           "var/lib/NetworkManager/internal-4f3a-eth0.lease",
                           "var/lib/NetworkManager/dhclient-4f3a-eth0.lease", "var/lib/NetworkManager/secret_key",
                           "var/lib/systemd/network/dhcp-server-lease", "var/lib/systemd/random-seed",
                           "var/lib/dhcpcd/eth0.lease", "var/lib/dhcpcd/duid"}) {
    EXPECT_FALSE(t.Exists(std::string("root/") + gone)) << gone;
    EXPECT_TRUE(Has(r->removed, std::string("/") + gone)) << gone;
  }
  EXPECT_TRUE(t.Exists("root/var/lib/systemd/network"));
  EXPECT_TRUE(t.Exists("root/var/lib/dhcp/README"));
  EXPECT_TRUE(t.Exists("root/var/lib/NetworkManager/NetworkManager.state"));

  EXPECT_EQ(Joined(r->changed),
            "/etc/hostname\n/etc/hosts\n/etc/machine-id\n/etc/systemd/system/ka-ssh-keygen.service\n"
            "/etc/systemd/system/multi-user.target.wants/ka-ssh-keygen.service\n"
            "/etc/NetworkManager/system-connections/Wired.nmconnection\n");
  EXPECT_TRUE(Has(r->removed, "/etc/ssh/ssh_host_ed25519_key"));
  EXPECT_TRUE(Has(r->removed, "/etc/udev/rules.d/70-persistent-net.rules"));
  EXPECT_EQ(r->removed.size(), 6u + 2u + 9u);
  EXPECT_TRUE(r->notes.empty()) << Joined(r->notes);
}

TEST(NodeIndividualise, SecondRunChangesNothing) {
  TempTree t;
  DebianGolden(t);
  ASSERT_TRUE(Apply(t).ok());
  auto before = t.Snapshot("root");
  auto again = Apply(t);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE(again->changed.empty()) << Joined(again->changed);
  EXPECT_TRUE(again->removed.empty()) << Joined(again->removed);
  EXPECT_EQ(again->golden_hostname, "node7");
  EXPECT_EQ(t.Snapshot("root"), before);
}

// A RHEL 6 style golden: SysV init, ifcfg files, rc.local through rc.d.
void RhelGolden(const TempTree& t) {
  t.Write("root/usr/bin/ssh-keygen", "", 0755);
  t.Write("root/usr/sbin/sshd", "", 0755);
  t.Mkdir("root/etc/rc.d/init.d");
  t.Symlink("rc.d/init.d", "root/etc/init.d");
  t.Write("root/etc/rc.d/rc.local", "#!/bin/sh\ntouch /var/lock/subsys/local\n", 0755);
  t.Symlink("rc.d/rc.local", "root/etc/rc.local");
  t.Write("root/etc/sysconfig/network", "NETWORKING=yes\nHOSTNAME=golden.lab\n");
  t.Write("root/etc/sysconfig/network-scripts/ifcfg-eth0",
          "DEVICE=eth0\nHWADDR=52:54:00:AA:BB:CC\nMACADDR=52:54:00:AA:BB:CD\nBOOTPROTO=dhcp\nONBOOT=yes\n");
  t.Write("root/etc/sysconfig/network-scripts/ifcfg-lo", "DEVICE=lo\n");
  t.Write("root/etc/hosts", "127.0.0.1   localhost localhost.localdomain\n::1 localhost6\n");
  t.Write("root/var/lib/dbus/machine-id", "0123456789abcdef0123456789abcdef\n");
  t.Write("root/var/lib/dhclient/dhclient-eth0.leases", "lease {}\n");
  t.Write("root/var/lib/random-seed", "SEED", 0600);
  t.Write("root/etc/ssh/ssh_host_rsa_key", "PRIVATE", 0600);
}

TEST(NodeIndividualise, RhelSysvGolden) {
  TempTree t;
  RhelGolden(t);
  IndividualiseOptions opt;
  opt.hostname_template = "n{index:03}.lab";
  auto r = Apply(t, opt);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->systemd);
  EXPECT_EQ(r->hostname, "n007.lab");
  EXPECT_EQ(r->golden_hostname, "");  // no /etc/hostname in RHEL 6
  EXPECT_EQ(t.Read("root/etc/hostname"), "n007.lab\n");
  EXPECT_EQ(t.Read("root/etc/sysconfig/network"), "NETWORKING=yes\nHOSTNAME=n007.lab\n");
  EXPECT_EQ(t.Read("root/etc/hosts"),
            "127.0.0.1   localhost localhost.localdomain\n127.0.1.1\tn007.lab n007\n::1 localhost6\n");
  EXPECT_EQ(t.Read("root/etc/sysconfig/network-scripts/ifcfg-eth0"), "DEVICE=eth0\nBOOTPROTO=dhcp\nONBOOT=yes\n");
  EXPECT_FALSE(t.Exists("root/etc/machine-id"));  // not created without systemd
  EXPECT_FALSE(t.Exists("root/var/lib/dbus/machine-id"));
  EXPECT_FALSE(t.Exists("root/var/lib/dhclient/dhclient-eth0.leases"));
  EXPECT_FALSE(t.Exists("root/var/lib/random-seed"));
  EXPECT_FALSE(t.Exists("root/etc/ssh/ssh_host_rsa_key"));

  EXPECT_EQ(r->ssh_keygen, SshKeygenWay::kRcLocal);
  EXPECT_TRUE(t.IsSymlink("root/etc/rc.local"));
  std::string rc = t.Read("root/etc/rc.d/rc.local");
  EXPECT_EQ(rc.rfind("#!/bin/sh\ntouch /var/lock/subsys/local\n# BEGIN ka: SSH host keys of this clone\n", 0), 0u) << rc;
  EXPECT_NE(rc.find("/usr/bin/ssh-keygen -A"), std::string::npos);
  EXPECT_NE(rc.find("/etc/init.d/sshd restart"), std::string::npos);
  EXPECT_TRUE(Has(r->changed, "/etc/rc.d/rc.local"));
  EXPECT_TRUE(Has(r->notes, "/etc/rc.local is reached through a symlink: changed /etc/rc.d/rc.local"));
  EXPECT_FALSE(t.Exists("root/etc/systemd"));

  auto before = t.Snapshot("root");
  auto again = Apply(t, opt);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->changed.empty()) << Joined(again->changed);
  EXPECT_EQ(t.Snapshot("root"), before);
}

TEST(NodeIndividualise, RcLocalBlockGoesBeforeExitAndIsCreatedWhenMissing) {
  TempTree t;
  t.Write("root/usr/bin/ssh-keygen", "", 0755);
  t.Write("root/usr/sbin/sshd", "", 0755);
  t.Mkdir("root/etc/init.d");
  t.Write("root/etc/rc.local", "#!/bin/sh -e\necho hi\nexit 0\n\n", 0644);
  auto r = Apply(t);
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::string rc = t.Read("root/etc/rc.local");
  EXPECT_EQ(rc.rfind("#!/bin/sh -e\necho hi\n# BEGIN ka", 0), 0u) << rc;
  EXPECT_NE(rc.find("# END ka\nexit 0\n\n"), std::string::npos) << rc;
  EXPECT_EQ(t.Mode("root/etc/rc.local"), 0755u);
  EXPECT_TRUE(Has(r->notes, "/etc/rc.local was not executable; it is now (it must run for the SSH host keys to be made)"));

  TempTree u;
  u.Write("root/usr/bin/ssh-keygen", "", 0755);
  u.Write("root/usr/sbin/sshd", "", 0755);
  u.Mkdir("root/etc/init.d");
  auto c = Apply(u);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->ssh_keygen, SshKeygenWay::kRcLocal);
  std::string made = u.Read("root/etc/rc.local");
  EXPECT_EQ(made.rfind("#!/bin/sh\n# BEGIN ka", 0), 0u) << made;
  EXPECT_EQ(made.substr(made.size() - 16), "# END ka\nexit 0\n");
  EXPECT_EQ(u.Mode("root/etc/rc.local"), 0755u);
}

TEST(NodeIndividualise, HostsVariants) {
  {
    TempTree t;  // no /etc/hosts at all
    t.Mkdir("root/etc");
    ASSERT_TRUE(Apply(t).ok());
    EXPECT_EQ(t.Read("root/etc/hosts"), "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tnode7\n");
  }
  {
    TempTree t;  // a 127.0.1.1 line naming something else; no trailing newline
    t.Write("root/etc/hostname", "golden\n");
    t.Write("root/etc/hosts", "127.0.0.1 localhost\n127.0.1.1 debian");
    auto r = Apply(t);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(t.Read("root/etc/hosts"), "127.0.0.1 localhost\n127.0.1.1\tnode7");
    EXPECT_TRUE(Has(r->notes, "/etc/hosts: the 127.0.1.1 line did not name the golden (golden); it now names node7"));
  }
  {
    TempTree t;  // FQDN golden, FQDN node
    t.Write("root/etc/hostname", "Golden.Example.Org\n");
    t.Write("root/etc/hosts", "127.0.1.1 golden.example.org golden\n");
    IndividualiseOptions opt;
    opt.hostname_template = "{name}.cluster";
    ASSERT_TRUE(Apply(t, opt).ok());
    EXPECT_EQ(t.Read("root/etc/hosts"), "127.0.1.1 node7.cluster node7\n");
  }
}

TEST(NodeIndividualise, SymlinksStayInsideTheImage) {
  TempTree t;
  DebianGolden(t);
  t.Mkdir("host");
  t.Write("host/passwd", "host-root:x:0:0\n");
  // /etc/hostname -> the host's /etc/passwd: inside the image that is the image's passwd.
  t.Symlink("/etc/passwd", "root/etc/hostname");
  auto fs = RootFs::Open(t / "root");
  ASSERT_TRUE(fs.ok());
  auto seen = fs->Resolve("/etc/hostname");
  ASSERT_TRUE(seen.ok());
  ASSERT_EQ(seen->host, fs->root() + "/etc/passwd");  // (never the host's: stop here otherwise)
  std::string host_passwd_before;
  {
    std::ifstream in("/etc/passwd");
    std::stringstream ss;
    ss << in.rdbuf();
    host_passwd_before = ss.str();
  }
  // Absolute and climbing links to a file outside ROOT.
  t.Symlink(t / "host/passwd", "root/etc/machine-id");
  t.Symlink("../../../../../../../../host/passwd", "root/etc/NetworkManager/system-connections/evil.nmconnection");
  t.Symlink(t / "host", "root/var/lib/dhclient");

  auto r = Apply(t);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(t.IsSymlink("root/etc/hostname"));  // replaced: a link to another file is not followed for a write
  EXPECT_EQ(t.Read("root/etc/hostname"), "node7\n");
  EXPECT_EQ(t.Read("root/etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n");
  EXPECT_TRUE(Has(r->notes, "/etc/hostname was a symlink to /etc/passwd; ka replaced it by a regular file"));
  EXPECT_EQ(r->golden_hostname, "");  // not read through a link to another file
  EXPECT_EQ(t.Read("root/etc/hosts").substr(0, 41), "127.0.0.1\tlocalhost\n127.0.1.1\tnode7 # the");
  EXPECT_FALSE(t.IsSymlink("root/etc/machine-id"));
  EXPECT_EQ(t.Read("root/etc/machine-id"), "");
  EXPECT_EQ(t.Read("host/passwd"), "host-root:x:0:0\n");
  EXPECT_TRUE(t.Exists("host/passwd"));  // /var/lib/dhclient -> host: resolved inside ROOT, where it is absent
  std::ifstream in("/etc/passwd");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), host_passwd_before);
}

TEST(NodeIndividualise, SameNameSymlinkIsWrittenThrough) {
  TempTree t;
  DebianGolden(t);
  t.Write("root/var/lib/dbus/machine-id", "0123456789abcdef0123456789abcdef\n", 0444);
  t.Symlink("/var/lib/dbus/machine-id", "root/etc/machine-id");
  t.Write("root/var/config/hostname", "golden\n");
  t.Symlink("../var/config/hostname", "root/etc/hostname");
  auto r = Apply(t);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(t.IsSymlink("root/etc/hostname"));
  EXPECT_EQ(t.Read("root/var/config/hostname"), "node7\n");
  EXPECT_EQ(r->golden_hostname, "golden");
  EXPECT_TRUE(t.IsSymlink("root/etc/machine-id"));
  EXPECT_EQ(t.Read("root/var/lib/dbus/machine-id"), "");  // the target of /etc/machine-id: emptied, not removed
  EXPECT_TRUE(Has(r->changed, "/var/config/hostname"));
  EXPECT_TRUE(Has(r->notes, "/etc/hostname is reached through a symlink: changed /var/config/hostname"));
}

TEST(NodeIndividualise, KeepRulesAndPaths) {
  TempTree t;
  DebianGolden(t);
  t.Symlink("/dev/null", "root/etc/udev/rules.d/75-persistent-net-generator.rules");
  IndividualiseOptions opt;
  opt.keep = {"ssh-host-keys", "/etc/NetworkManager/system-connections/Wired*", "/var/lib/dhcp/*"};
  auto r = Apply(t, opt);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->ssh_keygen, SshKeygenWay::kKept);
  EXPECT_TRUE(t.Exists("root/etc/ssh/ssh_host_rsa_key"));
  EXPECT_FALSE(t.Exists("root/etc/systemd/system/ka-ssh-keygen.service"));
  EXPECT_NE(t.Read("root/etc/NetworkManager/system-connections/Wired.nmconnection").find("mac-address=52"),
            std::string::npos);
  EXPECT_TRUE(t.Exists("root/var/lib/dhcp/dhclient.eth0.leases"));
  EXPECT_FALSE(t.Exists("root/var/lib/dhcpcd/duid"));
  EXPECT_TRUE(t.IsSymlink("root/etc/udev/rules.d/75-persistent-net-generator.rules"));  // the generator stays off
  EXPECT_EQ(Joined(r->kept),
            "ssh-host-keys\n/etc/NetworkManager/system-connections/Wired.nmconnection\n"
            "/var/lib/dhcp/dhclient.eth0.leases\n/var/lib/dhcp/dhclient6.leases\n");

  opt.keep = {"hostnames"};
  auto bad = Apply(t, opt);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("keep 'hostnames': not a rule name (hostname, machine-id,"), std::string::npos);
}

TEST(NodeIndividualise, ErrorsBeforeAnyChange) {
  TempTree t;
  DebianGolden(t);
  auto before = t.Snapshot("root");
  IndividualiseOptions opt;
  opt.hostname_template = "node_{index}";
  auto r = Apply(t, opt);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("hostname template 'node_{index}'"), std::string::npos);
  EXPECT_EQ(t.Snapshot("root"), before);
  auto noname = Individualise(t / "root", {3, "", "", ""}, {});
  ASSERT_FALSE(noname.ok());
  EXPECT_NE(noname.status().message().find("has no name"), std::string::npos);
  TempTree empty;
  empty.Mkdir("root");
  auto noetc = Apply(empty);
  ASSERT_FALSE(noetc.ok());
  EXPECT_NE(noetc.status().message().find("has no /etc directory"), std::string::npos);
}

TEST(NodeIndividualise, NoSshKeygenInTheImage) {
  TempTree t;
  t.Write("root/usr/lib/systemd/systemd", "", 0755);
  t.Write("root/etc/ssh/ssh_host_rsa_key", "PRIVATE", 0600);
  auto r = Apply(t);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ssh_keygen, SshKeygenWay::kNone);
  EXPECT_FALSE(r->notes.empty());
  TempTree bare;  // no SSH at all: nothing to do, nothing said
  bare.Write("root/usr/lib/systemd/systemd", "", 0755);
  bare.Mkdir("root/etc");
  auto b = Apply(bare);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->ssh_keygen, SshKeygenWay::kNone);
  EXPECT_TRUE(b->notes.empty());
  EXPECT_EQ(bare.Read("root/etc/machine-id"), "");  // systemd: created empty
  EXPECT_EQ(bare.Mode("root/etc/machine-id"), 0444u);
}

}  // namespace
}  // namespace ka::node
