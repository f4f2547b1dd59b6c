#include "netboot/netboot_serve.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "crypto/key_file.h"
#include "netboot/boot_switch.h"
#include "netboot/initramfs_writer.h"
#include "os/env.h"
#include "util/archive_ptr.h"

namespace ka::netboot {
namespace {

namespace fs = std::filesystem;
const char* kDnsmasq = "/usr/sbin/dnsmasq";

class NetbootServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "ka-serve-XXXXXX").string();
    dir_ = ::mkdtemp(t.data());
    fs::permissions(dir_, fs::perms::others_exec | fs::perms::group_exec, fs::perm_options::add);  // as dnsmasq needs
    fs::create_directories(dir_ + "/tftp/ka");
    for (const char* f : {"pxelinux.0", "ldlinux.c32", "ipxe.efi", "ka/vmlinuz", "ka/stage1.img"}) {
      std::ofstream(dir_ + "/tftp/" + f) << "fake " << f;
    }
    o_.tftp_root = dir_ + "/tftp";
    o_.dnsmasq.interface = "lo";
    o_.dnsmasq.dhcp_range = "127.0.0.100,127.0.0.199,1h";
    o_.boot.server = "127.0.0.1";
  }
  void TearDown() override { fs::remove_all(dir_); }
  // Writes `secret` to DIR/secret, mode 0600, and names it in the options: its path.
  std::string UseSecretFile(const std::string& secret) {
    std::string secret_file = dir_ + "/secret";
    std::ofstream(secret_file, std::ios::binary) << secret;
    fs::permissions(secret_file, fs::perms::owner_read | fs::perms::owner_write);
    o_.secret_file = secret_file;
    return secret_file;
  }
  std::string dir_;
  ServeOptions o_;
};

TEST_F(NetbootServeTest, PlanWritesNothingAndNamesTheFiles) {
  auto files = PlanServe(o_);
  ASSERT_TRUE(files.ok()) << files.status().message();
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0].path, dir_ + "/dnsmasq/dnsmasq.conf");
  EXPECT_EQ((*files)[1].path, dir_ + "/tftp/pxelinux.cfg/default");
  EXPECT_EQ((*files)[2].path, dir_ + "/tftp/ka/boot.ipxe");
  EXPECT_NE((*files)[0].content.find("tftp-root=" + dir_ + "/tftp\n"), std::string::npos);
  EXPECT_NE((*files)[1].content.find("ka.server=127.0.0.1:30765"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ + "/dnsmasq"));
  EXPECT_FALSE(fs::exists(dir_ + "/tftp/pxelinux.cfg"));

  const std::string printed = FormatForPrint(*files);
  EXPECT_NE(printed.find("# ---- " + dir_ + "/dnsmasq/dnsmasq.conf ----\n# dnsmasq configuration"), std::string::npos) << printed;
  EXPECT_NE(printed.find("# ---- " + dir_ + "/tftp/pxelinux.cfg/default ----\n"), std::string::npos);
  EXPECT_NE(printed.find("# ---- " + dir_ + "/tftp/ka/boot.ipxe ----\n#!ipxe\n"), std::string::npos);
}

TEST_F(NetbootServeTest, PrintWritesNothing) {
  o_.print = true;
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(Serve(o_, out).ok());
  std::rewind(out);
  char buf[256] = {};
  ASSERT_NE(std::fgets(buf, sizeof buf, out), nullptr);
  std::fclose(out);
  EXPECT_EQ(std::string(buf), "# ---- " + dir_ + "/dnsmasq/dnsmasq.conf ----\n");
  EXPECT_FALSE(fs::exists(dir_ + "/dnsmasq"));
  EXPECT_FALSE(fs::exists(dir_ + "/tftp/pxelinux.cfg"));
}

TEST_F(NetbootServeTest, NoRunWritesTheFilesAndTheSwitchWorks) {
  o_.no_run = true;
  o_.state_dir = dir_ + "/state";
  ASSERT_TRUE(Serve(o_, stdout).ok());
  EXPECT_TRUE(fs::exists(dir_ + "/state/dnsmasq.conf"));
  EXPECT_TRUE(fs::exists(dir_ + "/tftp/pxelinux.cfg/default"));
  EXPECT_TRUE(fs::exists(dir_ + "/tftp/ka/boot.ipxe"));
  EXPECT_FALSE(fs::exists(dir_ + "/tftp/ka/secret.img"));
  ASSERT_TRUE(SetNodeBoot(os::DefaultEnv(), o_.tftp_root, "52:54:00:00:00:07", BootChoice::kLocal).ok());
  EXPECT_EQ(GetNodeBoot(os::DefaultEnv(), o_.tftp_root, "52:54:00:00:00:07").value(), BootChoice::kLocal);
  EXPECT_EQ(GetNodeBoot(os::DefaultEnv(), o_.tftp_root, "52:54:00:00:00:08").value(), BootChoice::kKamethod);
}

TEST_F(NetbootServeTest, SecureBootBuildGetsTheGrubMenuAndShim) {
  std::ofstream(dir_ + "/build.json") << R"({"format":1,"uefi_boot":"shim"})";
  auto missing = PlanServe(o_);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("shimx64.efi, grubx64.efi"), std::string::npos)
      << missing.status().message();
  EXPECT_NE(missing.status().message().find("--secure-boot"), std::string::npos) << missing.status().message();
  for (const char* f : {"shimx64.efi", "grubx64.efi"}) std::ofstream(dir_ + "/tftp/" + f) << "fake " << f;
  auto files = PlanServe(o_);
  ASSERT_TRUE(files.ok()) << files.status().message();
  ASSERT_EQ(files->size(), 4u);
  EXPECT_EQ((*files)[3].path, dir_ + "/tftp/grub/grub.cfg");
  EXPECT_NE((*files)[3].content.find("linux /ka/vmlinuz console=tty0"), std::string::npos) << (*files)[3].content;
  EXPECT_NE((*files)[0].content.find("\ndhcp-boot=tag:efi64,shimx64.efi\n"), std::string::npos) << (*files)[0].content;

  o_.no_run = true;
  ASSERT_TRUE(Serve(o_, stdout).ok());
  ASSERT_TRUE(SetNodeBoot(os::DefaultEnv(), o_.tftp_root, "52:54:00:00:00:07", BootChoice::kLocal).ok());
  EXPECT_TRUE(fs::exists(dir_ + "/tftp/grub/ka/mac-52-54-00-00-00-07.cfg"));
  ASSERT_TRUE(ClearNodeBoot(os::DefaultEnv(), o_.tftp_root, "52:54:00:00:00:07").ok());
  EXPECT_FALSE(fs::exists(dir_ + "/tftp/grub/ka/mac-52-54-00-00-00-07.cfg"));
  if (::access(kDnsmasq, X_OK) == 0) {
    Status s = TestDnsmasqConfig(kDnsmasq, dir_ + "/dnsmasq/dnsmasq.conf");
    EXPECT_TRUE(s.ok()) << s.message();
    o_.dnsmasq.dhcp_range.clear();
    o_.dnsmasq.proxy = true;
    ASSERT_TRUE(Serve(o_, stdout).ok());
    s = TestDnsmasqConfig(kDnsmasq, dir_ + "/dnsmasq/dnsmasq.conf");
    EXPECT_TRUE(s.ok()) << s.message();
  }

  std::ofstream(dir_ + "/build.json") << R"({"format":1,"uefi_boot":"pxe"})";
  EXPECT_FALSE(PlanServe(o_).ok()) << "an unknown loader in build.json is an error";
}

TEST_F(NetbootServeTest, MissingBootFilesNameTheBuild) {
  fs::remove(dir_ + "/tftp/ka/vmlinuz");
  auto files = PlanServe(o_);
  ASSERT_FALSE(files.ok());
  EXPECT_NE(files.status().message().find("ka/vmlinuz"), std::string::npos);
  EXPECT_NE(files.status().message().find("ka netboot build -o DIR"), std::string::npos);
}

TEST_F(NetbootServeTest, MissingInterfaceIsAnErrorUnlessPrinting) {
  o_.dnsmasq.interface = "ka-no-such0";
  auto files = PlanServe(o_);
  ASSERT_FALSE(files.ok());
  EXPECT_NE(files.status().message().find("ka-no-such0"), std::string::npos);
  o_.print = true;
  EXPECT_TRUE(PlanServe(o_).ok()) << "the operator may print a config for another machine";
}

TEST_F(NetbootServeTest, SecretImage) {
  std::string secret = "s3cret bytes\n";  // binary, 32 bytes, 22 distinct: a strong enough secret
  for (int i = 0; i < 19; ++i) secret.push_back(static_cast<char>(0x80 + i));
  const std::string secret_file = UseSecretFile(secret);
  auto files = PlanServe(o_);
  ASSERT_TRUE(files.ok()) << files.status().message();
  ASSERT_EQ(files->size(), 4u);
  const GeneratedFile& img = (*files)[3];
  EXPECT_EQ(img.path, dir_ + "/tftp/ka/secret.img");
  EXPECT_FALSE(img.printable);
  EXPECT_NE((*files)[1].content.find("initrd=ka/stage1.img,ka/secret.img "), std::string::npos);
  EXPECT_NE((*files)[2].content.find("initrd secret.img"), std::string::npos);
  EXPECT_EQ(FormatForPrint(*files).find("s3cret"), std::string::npos) << "--print must not show the secret";

  ArchiveReadPtr a(archive_read_new());
  archive_read_support_format_cpio(a.get());
  ASSERT_EQ(archive_read_open_memory(a.get(), img.content.data(), img.content.size()), ARCHIVE_OK);
  struct archive_entry* e = nullptr;
  std::vector<std::string> names;
  while (archive_read_next_header(a.get(), &e) == ARCHIVE_OK) {
    names.push_back(archive_entry_pathname(e));
    EXPECT_EQ(archive_entry_uid(e), 0);
    if (names.back() == "etc/ka/secret") {
      EXPECT_EQ(archive_entry_filetype(e), static_cast<mode_t>(AE_IFREG));
      EXPECT_EQ(archive_entry_perm(e), 0600);
      std::string data(static_cast<size_t>(archive_entry_size(e)), '\0');
      ASSERT_EQ(archive_read_data(a.get(), data.data(), data.size()), static_cast<la_ssize_t>(data.size()));
      EXPECT_EQ(data, secret);
    } else {
      EXPECT_EQ(archive_entry_filetype(e), static_cast<mode_t>(AE_IFDIR));
      EXPECT_EQ(archive_entry_perm(e), 0755);
    }
  }
  EXPECT_EQ(names, (std::vector<std::string>{"etc", "etc/ka", "etc/ka/secret"}));
  EXPECT_EQ(archive_format(a.get()), ARCHIVE_FORMAT_CPIO_SVR4_NOCRC) << "the kernel reads newc";

  std::ofstream(secret_file, std::ios::trunc);
  EXPECT_FALSE(PlanServe(o_).ok()) << "an empty secret is refused";
}

TEST_F(NetbootServeTest, WeakOrWorldReadableSecretsAreRefused) {
  const std::string secret_file = UseSecretFile("hunter2\n");
  auto weak = PlanServe(o_);
  ASSERT_FALSE(weak.ok());
  EXPECT_NE(weak.status().message().find("ka secret new"), std::string::npos) << weak.status().message();
  std::ofstream(secret_file, std::ios::trunc) << "3f9a0c7e12b45d68e9f0a1b2c3d4e5f6\n";
  fs::permissions(secret_file, fs::perms::others_read, fs::perm_options::add);
  auto world = PlanServe(o_);
  ASSERT_FALSE(world.ok());
  EXPECT_NE(world.status().message().find("chmod 600 " + secret_file), std::string::npos) << world.status().message();
}

TEST_F(NetbootServeTest, SecretFileWarnsLoudlyAndKeysAreNamedByFingerprint) {
  UseSecretFile("3f9a0c7e12b45d68e9f0a1b2c3d4e5f6\n");
  auto warnings = TrustWarnings(o_);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("ANYONE on the boot network"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("--trust-key"), std::string::npos) << warnings[0];
  EXPECT_TRUE(TrustNotes(o_).empty());

  crypto::PublicKey golden;
  ASSERT_TRUE(crypto::WriteNewKeyPair(dir_ + "/golden", &golden).ok());
  o_.secret_file.clear();
  o_.trust_key_file = dir_ + "/golden/ka.pub";
  EXPECT_TRUE(TrustWarnings(o_).empty());
  auto notes = TrustNotes(o_);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find(golden.Fingerprint()), std::string::npos) << notes[0];
  o_.trust_key_file.clear();
  ASSERT_EQ(TrustWarnings(o_).size(), 1u) << "neither a key nor a secret: the nodes trust any server";
}

TEST_F(NetbootServeTest, TrustAndOperatorKeysReachTheMenus) {
  crypto::PublicKey golden, op;
  ASSERT_TRUE(crypto::WriteNewKeyPair(dir_ + "/golden", &golden).ok());
  ASSERT_TRUE(crypto::WriteNewKeyPair(dir_ + "/op", &op).ok());
  o_.trust_key_file = dir_ + "/golden/ka.pub";
  o_.operator_key_file = crypto::FormatPublicKey(op);  // the line itself is accepted too
  auto files = PlanServe(o_);
  ASSERT_TRUE(files.ok()) << files.status().message();
  const std::string args = "ka.trust=" + crypto::FormatPublicKey(golden) + " ka.operator=" + crypto::FormatPublicKey(op);
  EXPECT_NE((*files)[1].content.find(args), std::string::npos) << (*files)[1].content;  // pxelinux
  EXPECT_NE((*files)[2].content.find(args), std::string::npos) << (*files)[2].content;  // iPXE

  o_.trust_key_file = dir_ + "/golden/ka.key";  // the secret half: refused, at start
  auto secret = PlanServe(o_);
  ASSERT_FALSE(secret.ok());
  EXPECT_NE(secret.status().message().find("--trust-key"), std::string::npos) << secret.status().message();
  EXPECT_NE(secret.status().message().find("secret key file"), std::string::npos) << secret.status().message();

  o_.trust_key_file = dir_ + "/golden/ka.pub";
  o_.operator_key_file = dir_ + "/missing.pub";
  auto missing = PlanServe(o_);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("--operator-key"), std::string::npos) << missing.status().message();
  EXPECT_NE(missing.status().message().find(dir_ + "/missing.pub"), std::string::npos) << missing.status().message();
}

// dnsmasq itself checks the syntax of both modes (no root needed, binds nothing).
TEST_F(NetbootServeTest, DnsmasqAcceptsTheConfig) {
  if (::access(kDnsmasq, X_OK) != 0) GTEST_SKIP() << kDnsmasq << " missing (apt-get install dnsmasq-base)";
  o_.no_run = true;
  o_.dnsmasq.hosts.push_back({"52:54:00:00:00:01", "127.0.0.11", "node1"});
  o_.dnsmasq.log_dhcp = true;
  o_.dnsmasq.authoritative = true;
  o_.dnsmasq.ipv6_ra = true;  // lo has ::1 where IPv6 is on
  if (!PlanServe(o_).ok()) o_.dnsmasq.ipv6_ra = false;
  ASSERT_TRUE(Serve(o_, stdout).ok());
  Status s = TestDnsmasqConfig(kDnsmasq, dir_ + "/dnsmasq/dnsmasq.conf");
  EXPECT_TRUE(s.ok()) << s.message();

  o_.dnsmasq.dhcp_range.clear();
  o_.dnsmasq.hosts.clear();
  o_.dnsmasq.authoritative = false;
  o_.dnsmasq.proxy = true;
  ASSERT_TRUE(Serve(o_, stdout).ok());
  s = TestDnsmasqConfig(kDnsmasq, dir_ + "/dnsmasq/dnsmasq.conf");
  EXPECT_TRUE(s.ok()) << s.message();

  // And the check can fail.
  std::ofstream(dir_ + "/dnsmasq/dnsmasq.conf", std::ios::app) << "no-such-option=1\n";
  s = TestDnsmasqConfig(kDnsmasq, dir_ + "/dnsmasq/dnsmasq.conf");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("bad option"), std::string::npos) << s.message();
}

std::string FakeDnsmasq(const std::string& dir, const std::string& body) {
  const std::string path = dir + "/fake-dnsmasq";
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

TEST_F(NetbootServeTest, RunReportsAFailingDnsmasq) {
  const std::string bin = FakeDnsmasq(dir_, "echo \"dnsmasq: failed to bind DHCP socket\" >&2\nexit 3");
  Status s = RunDnsmasq(bin, dir_ + "/x.conf");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("exited with status 3"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("failed to bind DHCP socket"), std::string::npos) << s.message();
  s = RunDnsmasq(dir_ + "/absent", dir_ + "/x.conf");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("dnsmasq-base"), std::string::npos) << s.message();
}

TEST_F(NetbootServeTest, RunStopsCleanlyOnSigterm) {
  const std::string marker = dir_ + "/args";
  const std::string bin = FakeDnsmasq(dir_, "echo \"$@\" > " + marker + "\nexec sleep 30");
  std::thread killer([&] {
    for (int i = 0; i < 100 && !fs::exists(marker); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (fs::exists(marker)) ::kill(::getpid(), SIGTERM);  // else the test fails below, not by the signal
  });
  auto start = std::chrono::steady_clock::now();
  Status s = RunDnsmasq(bin, dir_ + "/x.conf");
  killer.join();
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  std::ifstream in(marker);
  std::string args;
  std::getline(in, args);
  EXPECT_EQ(args, "--keep-in-foreground --conf-file=" + dir_ + "/x.conf");
}

}  // namespace
}  // namespace ka::netboot
