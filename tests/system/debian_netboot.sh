#!/usr/bin/env bash
# System test: the real Debian golden through network boot, end to end, on BIOS and on UEFI
# machines with Secure Boot enforced, in one session. In a namespace with a bridge, `ka netboot
# serve` (dnsmasq: DHCP, TFTP; BIOS clients get pxelinux, UEFI clients shim -> Debian's signed
# network GRUB -> the signed stage1 kernel: a `ka netboot build --secure-boot`) and `ka serve
# --bootloader grub --stage2 --pxe-root` serve the EFI Debian golden (tests/lib/debian_golden.bash:
# GPT with bios_grub, an ESP holding shim and the signed GRUB, and /; made for a SATA disk) to
# three QEMU machines (software emulation) with blank 2 GiB disks of other kinds: vm0 BIOS
# (SeaBIOS) on NVMe, vm1 and vm2 UEFI (OVMF with Microsoft's keys enrolled, Secure Boot
# enforced) on virtio-blk and SATA. Each PXE-boots stage1 (the UEFI ones through shim and signed
# GRUB: the firmware and shim verify every EFI binary and the kernel), receives stage2 and the
# golden through two chains fed at once (--max-chain 2: sender -> a -> b | sender -> c),
# partitions, formats, extracts, individualises. The ESP travels block
# for block (the server's kernel has no vfat); every node's kernel mounts it, so in the chroot the
# golden's grub-install installs GRUB for BIOS and, with shim (--uefi-secure-boot), for UEFI into
# EFI/debian and EFI/BOOT; grub-mkconfig, the grub.cfg check; the UEFI nodes write their NVRAM
# boot entry ("ka clone: debian" -> \EFI\debian\shimx64.efi, first in BootOrder) with
# efibootmgr. The server switches every PXE boot to `local`; each VM reboots (the same QEMU
# process: the UEFI variables stay) and boots the Debian clone from its own disk (the UEFI ones
# from the new boot entry, through shim and the signed GRUB and kernel, Secure Boot on), reaches
# multi-user, prints its identity on the serial console and powers off. Checks: hostnames from
# the template, machine-ids and SSH keys new and distinct, no failed unit, fstab resolves (the
# ESP included), / by UUID on the right device, the firmware and Secure Boot state each clone
# reports.
# Timings: build/test-artifacts/debian-netboot-timings.txt. Env: KA_KEEP=1 keeps the work dir.
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2016  # single-quoted checks are eval'd by bed_check
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"
# shellcheck source=../lib/qemu.bash
. "$(dirname "$0")/../lib/qemu.bash"
# shellcheck source=../lib/debian_golden.bash
. "$(dirname "$0")/../lib/debian_golden.bash"

bed_require_root
bed_require_ka
qemu_require /usr/sbin/dnsmasq debootstrap zstd ssh-keygen dpkg-deb depmod cpio sfdisk mcopy
qemu_fw_require bios uefi-sb
[[ -f /usr/lib/PXELINUX/pxelinux.0 ]] || { echo "SKIP: pxelinux not installed (scripts/setup.sh)"; exit 77; }
bed_trap
bed_workdir
W=$BED_WORK
chmod 0755 "$W"  # dnsmasq serves TFTP as nobody
qemu_test_begin

qemu_netboot_ready "$W/nb" --secure-boot
t=$(qemu_now)
debian_golden efi || bed_die "cannot build the EFI Debian golden"
GOLDEN=$DG_IMAGE
dg_golden_identity "$GOLDEN" 3 || bed_die "cannot read the golden's identity"
qemu_timing "EFI Debian golden (cached)" "$(qemu_secs_since "$t")"

NS=${BED_PREFIX}dnb
qemu_net_up "$NS" 10.78.0 3
MACS=(52:54:00:6b:01:01 52:54:00:6b:01:02 52:54:00:6b:01:03)
KINDS=(nvme virtio sata)
FIRMS=(bios uefi-sb uefi-sb)
# vm1 network-boots first at every boot (QEMU's bootindex: the per-MAC `local` then runs the
# clone's grub.cfg); vm2 follows its firmware's BootOrder (blank disk, then network; after the
# clone, the entry it wrote first): it must boot its disk without the network.
BOOTORDER=(qemu qemu firmware)
ROOTS=(/dev/nvme0n1p3 /dev/vda3 /dev/sda3)
for i in "${!MACS[@]}"; do truncate -s 2G "$W/disk$i.raw"; done
bed_secret "$W/secret"

qemu_netboot_serve "$NB" 10.78.0 10.78.0.1 "$W/secret"
qemu_pxe_serve "$GOLDEN" "$NB" 10.78.0 "$W/secret" --bootloader grub --hostname-template 'pxe-deb-{index}' \
  --join-timeout 900 --max-chain 2

echo "== three VMs (BIOS, UEFI + Secure Boot x2): PXE -> stage1 -> stage2 and the Debian golden through the chain -> boot from disk"
t_vms=$(qemu_now)
qemu_pxe_vms

PHASES=("stage1 kernel booted|ka stage1 (kernel" "stage2 installed|stage2 installed"
        "clone written, rebooting|rebooting now" "Debian clone's GRUB (BIOS)|GRUB loading"
        "Debian clone reached multi-user, reported|KA-REPORT-END")
qemu_pxe_wait 2100 "$t_vms"
qemu_phase_timings
qemu_timing "whole PXE -> clone -> Debian boots from disk, 3 VMs" "$(qemu_secs_since "$t_vms")"

bed_check "every VM powered off by itself (the clone's test hook)" test "$ALIVE" = 0
bed_check "ka serve exited 0 (every node cloned)" test "${SERVE_RC:-x}" = 0
bed_check "stage2 went through the chain to every node" grep -q "stage2 sent to 3 node" "$W/serve.log"
bed_check "two chains fed at once (--max-chain 2)" \
  grep -Eq 'chain \(epoch 1\): sender -> [^ |]+ -> [^ |]+ \| sender -> [^ |]+$' "$W/serve.log"
# vm_checks LOG WHAT I: initramfs, GRUB, UEFI entry, firmware and PXE switch of VM I (dg_check_pxe_vms calls it)
vm_checks() {
  local log=$1 what=$2 i=$3 drv fw=${FIRMS[$3]} fw_name
  drv=$([[ ${KINDS[i]} == nvme ]] && echo nvme || { [[ ${KINDS[i]} == sata ]] && echo ahci; } || echo virtio_blk)
  bed_check "$what: the golden's initramfs already holds its disk's drivers: not rebuilt" \
    grep -aq "initramfs: kernel .* already holds the .* module(s) this node's disk .* needs (.*$drv.*): not rebuilt" "$log"
  fw_name=BIOS
  [[ $fw == bios ]] || fw_name=UEFI
  bed_check "$what: PREPARE planned GRUB for BIOS and UEFI into the mounted, block-copied ESP" \
    grep -aq "boot: node firmware $fw_name, bootloader grub: BIOS + EFI into /boot/efi (the block-copied ESP, mounted)" "$log"
  bed_check "$what: the golden's GRUB installed in the chroot for BIOS and, with shim, for UEFI; grub.cfg checked" \
    bash -c "grep -aq 'run: /usr/sbin/chroot .* /usr/sbin/grub-install --target=i386-pc' '$log' &&
             grep -aq 'run: /usr/sbin/chroot .* /usr/sbin/grub-install --target=x86_64-efi --efi-directory=/boot/efi --no-nvram --uefi-secure-boot --removable' '$log' &&
             grep -aq 'bootloader: /boot/grub/grub.cfg checked' '$log'"
  if [[ $fw == bios ]]; then
    bed_check "$what: no UEFI boot entry on a BIOS machine" bash -c "! grep -aq 'efi: boot entry' '$log'"
    dg_check_firmware "$log" "$what" bios -
  else
    bed_check "$what: stage1's kernel booted with Secure Boot enforced (shim -> signed GRUB -> signed kernel)" \
      test "$(awk '/secureboot: Secure boot enabled/ { sb = 1 } /ka stage1 \(kernel/ { print sb + 0; exit }' "$log")" = 1
    if [[ ${BOOTORDER[i]} == qemu ]]; then
      bed_check "$what: after the clone, network boot said local: GRUB booted the clone's own grub.cfg" \
        bash -c "sed -n '/rebooting now/,\$p' '$log' | grep -aq 'ka: booting the local system: (.*)/boot/grub/grub.cfg'"
    else
      bed_check "$what: after the clone, the firmware started the clone's entry, without the network" \
        bash -c "sed -n '/rebooting now/,\$p' '$log' >'$log.after' &&
                 grep -aEq 'BdsDxe: starting Boot[0-9A-F]{4} \"ka clone: debian\"' '$log.after' &&
                 ! grep -aq 'NBP filename' '$log.after'"
    fi
    bed_check "$what: its UEFI boot entry written, first in BootOrder" \
      grep -aq "efi: boot entry Boot[0-9A-F]* 'ka clone: debian' -> .EFI.debian.shimx64.efi on /dev/[a-z0-9]* partition 2, first in BootOrder" "$log"
    dg_check_firmware "$log" "$what" uefi 1
  fi
  bed_check "$what: PXE boot switched to local" \
    bash -c "'$KA_BIN' netboot serve '$NB' --interface br0 --show-boot '${MACS[i]}' 2>&1 | grep -qw local"
}
dg_check_pxe_vms vm_checks "${ROOTS[@]}"
bed_check "the report has the phases of every node" python3 - "$W/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = len(r["nodes"]) == 3
for n in r["nodes"]:
    ph = n.get("phases", {})
    print("    %s: %s" % (n["name"], ", ".join("%s %.1f s" % kv for kv in sorted(ph.items()))))
    ok &= all(p in ph for p in ("stream", "individualise", "initramfs", "bootloader"))
print("    session: prepare %.1f s, stream %.1f s (%.1f MiB/s per node), whole %.1f s" % (
    r.get("prepare_seconds", -1), r["seconds"], r["throughput_mib_s"], r["session_seconds"]))
sys.exit(0 if ok else 1)
PY
dg_boot_phases "$W/report.json" "clone written, rebooting" "Debian clone reached multi-user, reported"

qemu_timing "whole test" "$(qemu_secs_since "$T_ALL")"

qemu_save_timings tests/system/debian_netboot.sh debian-netboot-timings.txt "$W/phases.md"
cp "$W/report.json" "$ARTIFACTS/debian-netboot-report.json" 2>/dev/null
if (( BED_FAILS )); then
  for f in serve.log netboot-serve.log; do echo "---- $f (tail)"; tail -n 30 "$W/$f"; done
  for i in "${!MACS[@]}"; do echo "---- vm$i (tail)"; qemu_console_tail "$W/vm$i.log" 40; done
  cp "$W"/vm*.log "$W"/serve.log "$ARTIFACTS/" 2>/dev/null
  echo "debian_netboot: FAIL ($BED_FAILS checks failed)"; exit 1
fi
echo "debian_netboot: PASS"
