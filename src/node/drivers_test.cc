#include "node/drivers.h"

#include <gtest/gtest.h>

#include "node/temp_tree_for_test.h"
#include "testing/error_of.h"
#include "testing/fake_env.h"

namespace ka::node {
namespace {

using Strings = std::vector<std::string>;
using Pairs = std::vector<std::pair<std::string, std::string>>;

const char kE1000[] = "pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00";
const char kAhci[] = "pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01";
const char kScsiDisk[] = "scsi:t-0x00";
const char kVirtioNet[] = "virtio:d00000001v00001AF4";
const char kVirtioPci[] = "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00";
const char kNvme[] = "pci:v00001B36d00000010sv00001AF4sd00001100bc01sc08i02";

// `dev` (below sys/devices/) with its modalias.
void Modalias(const TempTree& t, const std::string& dev, const char* alias) {
  t.Write("sys/devices/" + dev + "/modalias", std::string(alias) + "\n");
}

// The class device `node` (below sys/devices/, its last component the name) listed in
// sys/class/CLS, with its "device" link to `device` when there is one.
void ClassNode(const TempTree& t, const std::string& cls, const std::string& node, const std::string& device = "") {
  t.Mkdir("sys/devices/" + node);
  if (!device.empty()) t.Symlink(device, "sys/devices/" + node + "/device");
  t.Symlink("../../devices/" + node, "sys/class/" + cls + "/" + node.substr(node.rfind('/') + 1));
}

// A QEMU q35-like machine: e1000 eth0, virtio-net enp1s0, a SATA disk sda on AHCI,
// an NVMe disk, and virtual interfaces (lo, br0) without a device.
void FakeSysfs(const TempTree& t) {
  const std::string pci = "pci0000:00";
  Modalias(t, pci + "/0000:00:02.0", kE1000);
  ClassNode(t, "net", pci + "/0000:00:02.0/net/eth0", "../../../0000:00:02.0");

  Modalias(t, pci + "/0000:00:03.0", kVirtioPci);
  Modalias(t, pci + "/0000:00:03.0/virtio0", kVirtioNet);
  ClassNode(t, "net", pci + "/0000:00:03.0/virtio0/net/enp1s0", "../../../virtio0");

  ClassNode(t, "net", "virtual/net/lo");
  ClassNode(t, "net", "virtual/net/br0");

  const std::string sdev = pci + "/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0";
  Modalias(t, pci + "/0000:00:1f.2", kAhci);
  Modalias(t, sdev, kScsiDisk);
  ClassNode(t, "block", sdev + "/block/sda", "../../../0:0:0:0");
  ClassNode(t, "block", sdev + "/block/sda/sda1");

  Modalias(t, pci + "/0000:00:04.0", kNvme);
  ClassNode(t, "block", pci + "/0000:00:04.0/nvme/nvme0/nvme0n1", "../../nvme0");

  ClassNode(t, "block", "virtual/block/loop0");
}

const char kAliases[] =
    "# Aliases extracted from modules themselves.\n"
    "alias pci:v00008086d0000100Esv*sd*bc*sc*i* e1000\n"
    "alias pci:v00008086d0000100Fsv*sd*bc*sc*i* e1000\n"
    "alias pci:v*d*sv*sd*bc01sc06i01* ahci\n"
    "alias pci:v00008086d00002922sv*sd*bc*sc*i* ahci\n"
    "alias scsi:t-0x00* sd_mod\n"
    "alias scsi:t-0x0e* sd_mod\n"
    "alias virtio:d00000001v* virtio_net\n"
    "alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci\n"
    "alias pci:v*d*sv*sd*bc01sc08i02* nvme\n"
    "alias usb:v*p*d*dc*dsc*dp*ic08isc06ip50in* usb_storage\n";

TEST(NodeDrivers, CollectsNetworkAndDiskChain) {
  TempTree t;
  FakeSysfs(t);
  NodeHardware hw = CollectHardware(os::DefaultEnv(), t / "sys", "sda");
  EXPECT_EQ(hw.network, (Pairs{{"enp1s0", kVirtioNet}, {"eth0", kE1000}}));
  EXPECT_EQ(hw.storage, (Strings{kScsiDisk, kAhci}));
  EXPECT_EQ(CollectHardware(os::DefaultEnv(), t / "sys", "sda1").storage,
            (Strings{kScsiDisk, kAhci}));  // a partition: its disk
  EXPECT_EQ(CollectHardware(os::DefaultEnv(), t / "sys", "nvme0n1").storage, (Strings{kNvme}));
  EXPECT_TRUE(CollectHardware(os::DefaultEnv(), t / "sys", "loop0").storage.empty());
  EXPECT_TRUE(CollectHardware(os::DefaultEnv(), t / "sys", "nosuch").storage.empty());
  EXPECT_EQ(CollectModaliases(os::DefaultEnv(), t / "sys", "sda"), (Strings{kE1000, kAhci, kScsiDisk, kVirtioNet}));
  EXPECT_TRUE(CollectHardware(os::DefaultEnv(), t / "nosys", "sda").network.empty());
}

TEST(NodeDrivers, ResolvesModulesWithFnmatchPatterns) {
  auto mods = ResolveModules(kAliases, {kAhci, kE1000, kScsiDisk, kVirtioNet, kVirtioPci, "acpi:PNP0A03:"});
  ASSERT_TRUE(mods.ok()) << mods.status().message();
  EXPECT_EQ(*mods, (Strings{"ahci", "e1000", "sd_mod", "virtio_net", "virtio_pci"}));
  auto none = ResolveModules(kAliases, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(testutil::ErrorOf(ResolveModules("alias pci:v* e1000\noptions e1000 debug=1\n", {kE1000})),
            "modules.alias line 2: expected 'alias PATTERN MODULE', got 'options e1000 debug=1' (run depmod for that "
            "kernel in the golden system)");
}

TEST(NodeDrivers, ResolveDriversKeepsStorageAndNetworkApart) {
  TempTree t;
  FakeSysfs(t);
  auto d = ResolveDrivers(kAliases, CollectHardware(os::DefaultEnv(), t / "sys", "sda"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->storage, (Strings{"sd_mod", "ahci"}));
  EXPECT_EQ(d->network, (Pairs{{"enp1s0", "virtio_net"}, {"eth0", "e1000"}}));
  EXPECT_EQ(d->All(), (Strings{"ahci", "e1000", "sd_mod", "virtio_net"}));
}

TEST(NodeDrivers, DetectsTheInitramfsToolAndKernels) {
  {
    TempTree t;
    t.Symlink("usr/lib", "root/lib");
    t.Write("root/usr/sbin/update-initramfs", "", 0755);
    t.Mkdir("root/etc/initramfs-tools");
    t.Write("root/usr/lib/modules/6.1.0-18-amd64/modules.dep", "");
    t.Write("root/usr/lib/modules/6.1.0-21-amd64/modules.dep", "");
    t.Mkdir("root/usr/lib/modules/6.1.0-9-amd64");  // leftovers of a removed kernel
    auto r = DetectInitramfsTool(t / "root");
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->kind, InitramfsKind::kInitramfsTools);
    EXPECT_EQ(r->path, "/usr/sbin/update-initramfs");
    EXPECT_EQ(r->kernels, (Strings{"6.1.0-18-amd64", "6.1.0-21-amd64"}));
  }
  {
    TempTree t;  // dracut wins over its mkinitrd compatibility wrapper
    t.Write("root/usr/bin/dracut", "", 0755);
    t.Write("root/sbin/mkinitrd", "", 0755);
    t.Write("root/lib/modules/5.14.0-362.el9.x86_64/modules.dep", "");
    auto r = DetectInitramfsTool(t / "root");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->kind, InitramfsKind::kDracut);
    EXPECT_EQ(r->path, "/usr/bin/dracut");
  }
  {
    TempTree t;
    t.Write("root/sbin/mkinitrd", "", 0755);
    auto r = DetectInitramfsTool(t / "root");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->kind, InitramfsKind::kMkinitrd);
    EXPECT_TRUE(r->kernels.empty());
  }
  {
    TempTree t;  // update-initramfs without /etc/initramfs-tools is not initramfs-tools
    t.Write("root/usr/sbin/update-initramfs", "", 0755);
    auto r = DetectInitramfsTool(t / "root");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->kind, InitramfsKind::kNone);
  }
}

NodeDrivers Drivers() { return {{"sd_mod", "ahci"}, {{"eth0", "e1000"}, {"eth1", "e1000"}}}; }

// Adds Drivers() to the golden below t/root with `tool`, twice: the file `rel` must read `want`
// after each (the second changes nothing).
void ExpectAddedOnce(const TempTree& t, const InitramfsTool& tool, const std::string& rel, const std::string& want) {
  for (int pass = 1; pass <= 2; ++pass) {
    ASSERT_TRUE(AddInitramfsModules(t / "root", tool, Drivers()).ok()) << "pass " << pass;
    EXPECT_EQ(t.Read(rel), want) << "pass " << pass;
  }
}

TEST(NodeDrivers, InitramfsToolsModulesFile) {
  TempTree t;
  t.Write("root/etc/initramfs-tools/modules", "# List of modules\n# raid1\nahci\n");
  InitramfsTool tool{InitramfsKind::kInitramfsTools, "/usr/sbin/update-initramfs", {}};
  const std::string want =
      "# List of modules\n# raid1\nahci\n# Added by ka: drivers of this node's disk controller and network cards\n"
      "e1000\nsd_mod\n";
  ExpectAddedOnce(t, tool, "root/etc/initramfs-tools/modules", want);
  ASSERT_TRUE(AddInitramfsModules(t / "root", tool, {{"nvme"}, {}}).ok());
  EXPECT_EQ(t.Read("root/etc/initramfs-tools/modules"), want + "nvme\n");
}

TEST(NodeDrivers, DracutConfFile) {
  TempTree t;
  t.Mkdir("root/etc");
  InitramfsTool tool{InitramfsKind::kDracut, "/usr/bin/dracut", {}};
  const std::string want =
      "# Written by ka: drivers of this node's disk controller and network cards\n"
      "add_drivers+=\" ahci e1000 sd_mod \"\n";
  ExpectAddedOnce(t, tool, "root/etc/dracut.conf.d/90-ka.conf", want);
  ASSERT_TRUE(AddInitramfsModules(t / "root", tool, {{"nvme"}, {}}).ok());
  EXPECT_NE(t.Read("root/etc/dracut.conf.d/90-ka.conf").find("\" ahci e1000 nvme sd_mod \""), std::string::npos);
}

TEST(NodeDrivers, MkinitrdModprobeConfSeedStyle) {
  TempTree t;
  t.Write("root/etc/modprobe.conf",
          "alias eth0 tg3\nalias scsi_hostadapter megaraid_sas\nalias scsi_hostadapter1 ata_piix\n"
          "alias snd-card-0 snd-intel8x0\noptions bonding max_bonds=2\nalias ethX foo\n");
  InitramfsTool tool{InitramfsKind::kMkinitrd, "/sbin/mkinitrd", {"2.6.18-398.el5"}};
  const std::string want =
      "alias snd-card-0 snd-intel8x0\noptions bonding max_bonds=2\nalias ethX foo\n"
      "alias eth0 e1000\nalias eth1 e1000\nalias scsi_hostadapter sd_mod\nalias scsi_hostadapter1 ahci\n";
  ExpectAddedOnce(t, tool, "root/etc/modprobe.conf", want);
  // No network card found: the golden's eth lines stay.
  TempTree u;
  u.Write("root/etc/modprobe.conf", "alias eth0 tg3\nalias scsi_hostadapter megaraid_sas\n");
  ASSERT_TRUE(AddInitramfsModules(u / "root", tool, {{"ahci"}, {}}).ok());
  EXPECT_EQ(u.Read("root/etc/modprobe.conf"), "alias eth0 tg3\nalias scsi_hostadapter ahci\n");
}

TEST(NodeDrivers, RebuildCommandsOnlyForTheKernelsGiven) {
  TempTree t;
  t.Write("root/boot/initrd.img-6.1.0-18-amd64", "x");
  const std::string root = t / "root";
  os::FakeEnv r;
  InitramfsTool itools{InitramfsKind::kInitramfsTools, "/usr/sbin/update-initramfs", {"6.1.0-18-amd64", "6.1.0-21-amd64"}};
  ASSERT_TRUE(RebuildInitramfs(r, root, itools, {"6.1.0-18-amd64", "6.1.0-21-amd64"}, {}).ok());
  ASSERT_TRUE(RebuildInitramfs(r, root, {InitramfsKind::kDracut, "/usr/bin/dracut", {"5.14.0"}}, {"5.14.0"},
                               {"--hostonly"})
                  .ok());
  ASSERT_TRUE(RebuildInitramfs(r, root, {InitramfsKind::kMkinitrd, "/sbin/mkinitrd", {"2.6.18-398.el5", "2.6.18-419.el5"}},
                               {"2.6.18-419.el5"}, {"--with=ata_piix"})
                  .ok());
  ASSERT_TRUE(RebuildInitramfs(r, root, {InitramfsKind::kNone, "", {"x"}}, {"x"}, {}).ok());
  ASSERT_TRUE(RebuildInitramfs(r, root, itools, {}, {}).ok());  // nothing to rebuild
  EXPECT_EQ(r.argvs(),
            (std::vector<Strings>{
                {"/usr/sbin/chroot", root, "/usr/sbin/update-initramfs", "-u", "-k", "6.1.0-18-amd64"},
                {"/usr/sbin/chroot", root, "/usr/sbin/update-initramfs", "-c", "-k", "6.1.0-21-amd64"},
                {"/usr/sbin/chroot", root, "/usr/bin/dracut", "-f", "--hostonly", "/boot/initramfs-5.14.0.img", "5.14.0"},
                {"/usr/sbin/chroot", root, "/sbin/mkinitrd", "--with=ata_piix", "-f",
                 "/boot/initrd-2.6.18-419.el5.img", "2.6.18-419.el5"},
            }));
  r.Script({"/usr/sbin/chroot"}, {1, "", "update-initramfs: failed for /boot/initrd.img-6.1.0-18-amd64\n"});
  Status failed = RebuildInitramfs(r, root, itools, {"6.1.0-18-amd64"}, {});
  EXPECT_EQ(failed.message().rfind("rebuilding the initramfs in " + root + " with initramfs-tools: /usr/sbin/chroot ", 0),
            0u)
      << failed.message();
  EXPECT_NE(failed.message().find("failed for /boot/initrd.img"), std::string::npos);
}

TEST(NodeDrivers, ReadModulesAliasInsideRoot) {
  TempTree t;
  t.Write("root/lib/modules/6.1.0/modules.alias", kAliases);
  auto a = ReadModulesAlias(t / "root", "6.1.0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, kAliases);
  auto missing = ReadModulesAlias(t / "root", "6.2.0");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("run depmod 6.2.0"), std::string::npos);
}

}  // namespace
}  // namespace ka::node
