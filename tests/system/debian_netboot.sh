#!/usr/bin/env bash
# System test: the real Debian golden through network boot, end to end. In a namespace with a
# bridge, `ka netboot serve` (dnsmasq: DHCP, TFTP, pxelinux) and `ka serve --bootloader grub
# --stage2 --pxe-root` serve the GPT Debian golden (tests/lib/debian_golden.bash; made for a SATA
# disk) to two QEMU machines (software emulation) with blank disks of other kinds and a bigger
# size: vm0 NVMe, vm1 virtio-blk, 2 GiB. Each PXE-boots stage1, receives stage2 and the golden
# through the chain, partitions, formats, extracts, individualises; in the chroot (its private
# /dev) it finds that the golden's initramfs already holds the drivers of its disk (NVMe,
# virtio: it says so and does not rebuild), runs the golden's grub-install and grub-mkconfig and
# checks the grub.cfg; the server switches its PXE boot to `local`; it reboots, boots the Debian
# clone from its own disk (its own GRUB and initramfs), reaches multi-user, prints its identity
# on the serial console and powers off. Checks: hostnames from the template, machine-ids and SSH
# keys new and distinct, no failed unit, fstab resolves, / by UUID on the right device.
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
qemu_require /usr/sbin/dnsmasq debootstrap zstd ssh-keygen dpkg-deb depmod cpio sfdisk
[[ -f /usr/lib/PXELINUX/pxelinux.0 ]] || { echo "SKIP: pxelinux not installed (scripts/setup.sh)"; exit 77; }
bed_trap
bed_workdir
W=$BED_WORK
chmod 0755 "$W"  # dnsmasq serves TFTP as nobody
qemu_test_begin

qemu_netboot_ready "$W/nb"
t=$(qemu_now)
debian_golden gpt || bed_die "cannot build the GPT Debian golden"
GOLDEN=$DG_IMAGE
dg_golden_identity "$GOLDEN" 2 || bed_die "cannot read the golden's identity"
qemu_timing "GPT Debian golden (cached)" "$(qemu_secs_since "$t")"

NS=${BED_PREFIX}dnb
qemu_net_up "$NS" 10.78.0 2
MACS=(52:54:00:6b:01:01 52:54:00:6b:01:02)
KINDS=(nvme virtio)
ROOTS=(/dev/nvme0n1p2 /dev/vda2)
for i in 0 1; do truncate -s 2G "$W/disk$i.raw"; done
bed_secret "$W/secret"

qemu_netboot_serve "$NB" 10.78.0 10.78.0.1 "$W/secret"
qemu_pxe_serve "$GOLDEN" "$NB" 10.78.0 "$W/secret" --bootloader grub --hostname-template 'pxe-deb-{index}' \
  --join-timeout 900

echo "== two VMs: PXE -> stage1 -> stage2 and the Debian golden through the chain -> boot from disk"
t_vms=$(qemu_now)
qemu_pxe_vms

PHASES=("stage1 kernel booted|ka stage1 (kernel" "stage2 installed|stage2 installed"
        "clone written, rebooting|rebooting now" "Debian clone's GRUB|GRUB loading"
        "Debian clone reached multi-user, reported|KA-REPORT-END")
qemu_pxe_wait 1500 "$t_vms"
qemu_phase_timings
qemu_timing "whole PXE -> clone -> Debian boots from disk, 2 VMs" "$(qemu_secs_since "$t_vms")"

bed_check "both VMs powered off by themselves (the clone's test hook)" test "$ALIVE" = 0
bed_check "ka serve exited 0 (both nodes cloned)" test "${SERVE_RC:-x}" = 0
bed_check "stage2 went through the chain to both nodes" grep -q "stage2 sent to 2 node" "$W/serve.log"
# vm_checks LOG WHAT I: initramfs, GRUB and PXE switch of VM I (dg_check_pxe_vms calls it)
vm_checks() {
  local log=$1 what=$2 i=$3
  bed_check "$what: the golden's initramfs already holds its disk's drivers: not rebuilt" \
    grep -aq "initramfs: kernel .* already holds the .* module(s) this node's disk .* needs (.*$( [[ ${KINDS[i]} == nvme ]] && echo nvme || echo virtio_blk).*): not rebuilt" "$log"
  bed_check "$what: the golden's GRUB installed in the chroot, its grub.cfg checked" \
    bash -c "grep -aq 'run: /usr/sbin/chroot .* /usr/sbin/grub-install --target=i386-pc' '$log' && grep -aq 'bootloader: /boot/grub/grub.cfg checked' '$log'"
  bed_check "$what: PXE boot switched to local" \
    bash -c "'$KA_BIN' netboot serve '$NB' --interface br0 --show-boot '${MACS[i]}' 2>&1 | grep -qw local"
}
dg_check_pxe_vms vm_checks "${ROOTS[@]}"
bed_check "the report has the phases of both nodes" python3 - "$W/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = len(r["nodes"]) == 2
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
  for i in 0 1; do echo "---- vm$i (tail)"; qemu_console_tail "$W/vm$i.log" 40; done
  cp "$W"/vm*.log "$W"/serve.log "$ARTIFACTS/" 2>/dev/null
  echo "debian_netboot: FAIL ($BED_FAILS checks failed)"; exit 1
fi
echo "debian_netboot: PASS"
