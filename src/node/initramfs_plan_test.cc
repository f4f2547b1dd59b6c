#include "node/initramfs_plan.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include "node/temp_tree_for_test.h"

namespace ka::node {
namespace {

using Strings = std::vector<std::string>;

const char kDep[] =
    "kernel/drivers/nvme/host/nvme.ko: kernel/drivers/nvme/host/nvme-core.ko\n"
    "kernel/drivers/nvme/host/nvme-core.ko:\n"
    "kernel/drivers/ata/ahci.ko: kernel/drivers/ata/libahci.ko kernel/drivers/ata/libata.ko\n"
    "kernel/drivers/ata/libahci.ko: kernel/drivers/ata/libata.ko\n"
    "kernel/drivers/ata/libata.ko: kernel/drivers/scsi/scsi_mod.ko\n"
    "kernel/drivers/scsi/sd_mod.ko: kernel/drivers/scsi/scsi_mod.ko kernel/lib/crc-t10dif.ko\n"
    "kernel/drivers/scsi/scsi_mod.ko:\n"
    "kernel/lib/crc-t10dif.ko:\n"
    "kernel/drivers/block/virtio_blk.ko:\n"
    "kernel/drivers/virtio/virtio_pci.ko.xz: kernel/drivers/virtio/virtio_pci_modern_dev.ko.xz\n"
    "kernel/drivers/virtio/virtio_pci_modern_dev.ko.xz:\n";
const char kBuiltin[] = "kernel/drivers/block/loop.ko\nkernel/drivers/virtio/virtio.ko\n";
const char kAlias[] = "alias pci:v*d*sv*sd*bc01sc06i01* ahci\nalias pci:v*d*sv*sd*bc01sc08i02* nvme\n";

KernelModules Kernel() { return ParseKernelModules("6.1.0-50-amd64", kDep, kBuiltin, kAlias); }

TEST(NodeInitramfsPlan, ParsesModulesDepAndBuiltin) {
  KernelModules k = Kernel();
  EXPECT_TRUE(k.Has("nvme_core"));
  EXPECT_TRUE(k.Has("virtio_pci"));
  EXPECT_EQ(k.deps.at("ahci"), (Strings{"libahci", "libata"}));
  EXPECT_TRUE(k.builtin.count("loop"));
}

TEST(NodeInitramfsPlan, TheModulesOfTheDriversBoundOnTheWayToTheDisk) {
  KernelModules k = Kernel();
  NodeHardware sata;  // sda on AHCI: sd (sd_mod), a SCSI host and a port without driver, ahci
  sata.storage_chain = {{"scsi:t-0x00", "sd", "sd_mod"}, {"", "", ""}, {"pci:v8086d2922bc01sc06i01", "ahci", "ahci"},
                        {"pci:v8086d29c0bc06sc00i00", "", ""}};
  auto m = DiskModules(sata, k);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(*m, (Strings{"ahci", "crc_t10dif", "libahci", "libata", "scsi_mod", "sd_mod"}));

  NodeHardware nvme;  // the driver built into the node's kernel: found by its alias
  nvme.storage_chain = {{"pci:v1b36d0010bc01sc08i02", "nvme", ""}};
  EXPECT_EQ(*DiskModules(nvme, k), (Strings{"nvme", "nvme_core"}));

  NodeHardware virtio;  // virtio-pci is the driver's name, virtio_pci its module
  virtio.storage_chain = {{"virtio:d00000002v00001AF4", "virtio_blk", "virtio_blk"},
                          {"pci:v1af4d1001", "virtio-pci", "virtio_pci"}};
  EXPECT_EQ(*DiskModules(virtio, k), (Strings{"virtio_blk", "virtio_pci", "virtio_pci_modern_dev"}));

  NodeHardware loop;  // a loop disk: nothing on the way
  EXPECT_TRUE(DiskModules(loop, k)->empty());
  NodeHardware builtin;
  builtin.storage_chain = {{"virtio:d1", "virtio_bus", "virtio"}};
  EXPECT_TRUE(DiskModules(builtin, k)->empty());
}

std::string CpioOf(const Strings& files) {
  std::string buf(1 << 20, '\0');
  size_t used = 0;
  struct archive* a = archive_write_new();
  archive_write_set_format_cpio_newc(a);
  archive_write_add_filter_gzip(a);
  archive_write_set_bytes_in_last_block(a, 1);
  EXPECT_EQ(archive_write_open_memory(a, buf.data(), buf.size(), &used), ARCHIVE_OK);
  for (const auto& f : files) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, f.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 0);
    EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK);
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  buf.resize(used);
  return buf;
}

class NodeInitramfsPlanImage : public ::testing::Test {
 protected:
  void SetUp() override {
    t_.Write("root/lib/modules/6.1.0-50-amd64/modules.dep", kDep);
    t_.Write("root/lib/modules/6.1.0-50-amd64/modules.builtin", kBuiltin);
    t_.Write("root/lib/modules/6.1.0-50-amd64/modules.alias", kAlias);
    const std::string d = "usr/lib/modules/6.1.0-50-amd64/kernel/drivers/";
    t_.Write("root/boot/initrd.img-6.1.0-50-amd64",
             CpioOf({d + "nvme/host/nvme.ko", d + "nvme/host/nvme-core.ko", d + "scsi/sd_mod.ko",
                     d + "scsi/scsi_mod.ko", "usr/lib/modules/6.1.0-50-amd64/kernel/lib/crc-t10dif.ko"}));
    nvme_.storage_chain = {{"pci:v1b36d0010bc01sc08i02", "nvme", "nvme"}};
    sata_.storage_chain = {{"scsi:t-0x00", "sd", "sd_mod"}, {"pci:v8086d2922bc01sc06i01", "ahci", "ahci"}};
  }
  TempTree t_;
  NodeHardware nvme_, sata_;
};

TEST_F(NodeInitramfsPlanImage, NotRebuiltWhenEverythingIsThere) {
  auto c = CheckInitramfs(t_ / "root", InitramfsKind::kInitramfsTools, "6.1.0-50-amd64", nvme_);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->rebuild());
  EXPECT_EQ(c->Explain("nvme0n1"),
            "kernel 6.1.0-50-amd64: /boot/initrd.img-6.1.0-50-amd64 already holds the 2 module(s) this node's disk "
            "(nvme0n1) needs (nvme nvme_core): not rebuilt");
  auto none = CheckInitramfs(t_ / "root", InitramfsKind::kInitramfsTools, "6.1.0-50-amd64", NodeHardware{});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->rebuild());
  EXPECT_NE(none->Explain("loop5").find("needs no module of this kernel"), std::string::npos);
}

TEST_F(NodeInitramfsPlanImage, RebuiltWhenAModuleIsMissingOrTheImage) {
  auto c = CheckInitramfs(t_ / "root", InitramfsKind::kInitramfsTools, "6.1.0-50-amd64", sata_);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->rebuild());
  EXPECT_EQ(c->missing, (Strings{"ahci", "libahci", "libata"}));
  EXPECT_EQ(c->Explain("sda"),
            "kernel 6.1.0-50-amd64: /boot/initrd.img-6.1.0-50-amd64 lacks ahci libahci libata that this node's disk "
            "(sda) needs: rebuilding it");
  auto dracut = CheckInitramfs(t_ / "root", InitramfsKind::kDracut, "6.1.0-50-amd64", nvme_);
  ASSERT_TRUE(dracut.ok());
  EXPECT_FALSE(dracut->image_exists);
  EXPECT_TRUE(dracut->rebuild());
  EXPECT_EQ(dracut->Explain(""),
            "kernel 6.1.0-50-amd64: /boot/initramfs-6.1.0-50-amd64.img does not exist: building it");
}

TEST_F(NodeInitramfsPlanImage, ABrokenImageOrKernelIsAnError) {
  t_.Write("root/boot/initrd.img-6.1.0-50-amd64", "garbage");
  auto c = CheckInitramfs(t_ / "root", InitramfsKind::kInitramfsTools, "6.1.0-50-amd64", nvme_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("listing the image's initramfs"), std::string::npos);
  auto k = CheckInitramfs(t_ / "root", InitramfsKind::kInitramfsTools, "6.2.0", nvme_);
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("run depmod 6.2.0"), std::string::npos);
}

TEST(NodeInitramfsPlan, ModulesSettingOfInitramfsTools) {
  TempTree t;
  t.Mkdir("root/etc");
  EXPECT_EQ(InitramfsToolsModulesSetting(t / "root"), "most");
  t.Write("root/etc/initramfs-tools/initramfs.conf", "# MODULES=list\nMODULES=most\nBUSYBOX=auto\n");
  EXPECT_EQ(InitramfsToolsModulesSetting(t / "root"), "most");
  t.Write("root/etc/initramfs-tools/conf.d/local", "MODULES=\"dep\"\n");
  EXPECT_EQ(InitramfsToolsModulesSetting(t / "root"), "dep");
}

}  // namespace
}  // namespace ka::node
