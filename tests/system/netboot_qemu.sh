#!/usr/bin/env bash
# System test: the whole network boot path on real (emulated) machines.
#  1. `ka netboot build` (stage1 from Debian's kernel, stage2 node tools) and a bootable busybox
#     golden (scripts/make-golden.sh --kernel-deb: Debian kernel, its own initramfs, grub.cfg).
#  2. No server: a VM booting stage1 with ka.server pointing nowhere makes 5 tries with a
#     countdown, then does ka.fail (poweroff here) by itself.
#  3. The real thing: a namespace with a bridge, `ka netboot serve` (dnsmasq from the generated
#     config: DHCP, TFTP, pxelinux) and `ka serve --stage2 --pxe-root`, and 2 QEMU VMs (software
#     emulation) on tap devices with blank disks. They PXE-boot stage1, receive stage2 and the
#     golden through the chain, partition, format, extract, individualise, install GRUB, reboot,
#     PXE-boot again into `local` (the server switched their per-MAC files), boot from their own
#     disk and print the golden's marker with their own hostname, then power off.
# Phase timings go to test-artifacts/netboot-timings.txt.
# Network: only the namespace made here (10.77.0.0/24, fd00:77::/64) and QEMU's restricted
# user-mode network (no traffic leaves QEMU). Everything is removed at the end.
# Env: KA_KEEP=1 keep the work dir; KA_NETBOOT_DIR=DIR reuse a `ka netboot build` output
# (otherwise the build is cached by tests/lib/qemu.bash, keyed by the ka binary).
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2016  # single-quoted checks are eval'd by bed_check
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"
# shellcheck source=../lib/qemu.bash
. "$(dirname "$0")/../lib/qemu.bash"

bed_require_root
bed_require_ka
qemu_require /usr/sbin/dnsmasq dpkg-deb depmod cpio sfdisk
[[ -f /usr/lib/PXELINUX/pxelinux.0 ]] || { echo "SKIP: pxelinux not installed (scripts/setup.sh)"; exit 77; }
bed_trap
bed_workdir
W=$BED_WORK
chmod 0755 "$W"  # dnsmasq serves TFTP as nobody: it must reach $W/nb/tftp
qemu_test_begin
timing() { qemu_timing "$@"; }
secs_since() { qemu_secs_since "$@"; }

# ---- 1. stage1/stage2 and the golden ----
t=$(qemu_now)
if [[ -n ${KA_NETBOOT_DIR:-} ]]; then
  NB=$KA_NETBOOT_DIR
else
  NB=$W/nb
  qemu_netboot_build "$NB" || bed_die "ka netboot build failed"
fi
timing "ka netboot build (stage1 + stage2; cached per ka binary)" "$(secs_since "$t")"
bed_check "netboot build made stage1, stage2 and the boot files" \
  test -s "$NB/tftp/ka/vmlinuz" -a -s "$NB/tftp/ka/stage1.img" -a -s "$NB/stage2.ka" -a -s "$NB/tftp/pxelinux.0"
DEB=$(python3 -c 'import json,sys; k=json.load(open(sys.argv[1]))["kernel"]; print(k.get("deb_path") or k.get("deb") or "")' \
  "$NB/build.json" 2>/dev/null)
[[ -f $DEB ]] || DEB=$(ls /var/cache/ka/netboot/linux-image-*.deb 2>/dev/null | head -n 1)
[[ -f $DEB ]] || bed_die "no kernel .deb found (build.json, /var/cache/ka/netboot)"
t=$(qemu_now)
bash "$KA_ROOT/scripts/make-golden.sh" "$W/golden.img" --size 320 --bulk 0 --kernel-deb "$DEB" \
  --poweroff-after-boot >"$W/golden.log" 2>&1 || { cat "$W/golden.log"; bed_die "make-golden failed"; }
timing "bootable busybox golden (make-golden --kernel-deb)" "$(secs_since "$t")"

# ---- 2. no server reachable: five tries, countdown, then ka.fail ----
echo "== stage1 without a server (5 tries, then ka.fail=poweroff)"
truncate -s 512M "$W/lonely.raw"
t=$(qemu_now)
qemu_vm lonely "$W/lonely.log" qemu-system-x86_64 -m 768 -nographic -no-reboot -monitor none \
  -kernel "$NB/tftp/ka/vmlinuz" -initrd "$NB/tftp/ka/stage1.img" \
  -append "console=ttyS0,115200n8 panic=-1 ka.server=10.0.2.2:9 ka.tries=5 ka.delay=2 ka.fail=poweroff" \
  -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0 \
  -drive file="$W/lonely.raw",format=raw,if=virtio
lonely=$VM_PID
if qemu_wait_exit "$lonely" 240; then lonely_done=1; else lonely_done=0; kill "$lonely" 2>/dev/null; fi
timing "stage1 with no server: boot, 5 tries, poweroff" "$(secs_since "$t")"
bed_check "the VM ended by itself" test "$lonely_done" = 1
for i in 1 2 3 4 5; do
  bed_check "try $i of 5 failed, visibly" grep -q "try $i of 5 failed" "$W/lonely.log"
done
bed_check "no sixth try" bash -c "! grep -q 'try 6 of' '$W/lonely.log'"
bed_check "a countdown between tries" grep -q "next try in 2 s" "$W/lonely.log"
bed_check "then the chosen action: power off (not reboot)" \
  bash -c "grep -q 'powering off now' '$W/lonely.log' && grep -q 'reboot: Power down' '$W/lonely.log'"
bed_check "the disk was not touched" cmp -s -n 1048576 "$W/lonely.raw" /dev/zero

# ---- 3. PXE boot, clone through the chain, boot the clone ----
echo "== two VMs: PXE, stage2 and the golden through the chain, boot from disk"
NS=${BED_PREFIX}nb
qemu_net_up "$NS" 10.77.0 2
MACS=(52:54:00:6b:00:01 52:54:00:6b:00:02)
for i in 0 1; do truncate -s 512M "$W/disk$i.raw"; done
SECRET=$W/secret
head -c 32 /dev/urandom | xxd -p -c 64 >"$SECRET"
chmod 0600 "$SECRET"

qemu_netboot_serve "$NB" 10.77.0 10.77.0.1 "$SECRET"
bed_check "pxelinux default has the local and kamethod labels" \
  bash -c "grep -qi '^LABEL local' '$NB/tftp/pxelinux.cfg/default' && grep -qi '^LABEL kamethod' '$NB/tftp/pxelinux.cfg/default'"

qemu_pxe_serve "$W/golden.img" "$NB" 10.77.0 "$SECRET" --hostname-template 'node{index}' --join-timeout 600

t_vms=$(qemu_now)
VMS=()
for i in 0 1; do
  qemu_vm "vm$i" "$W/vm$i.log" ip netns exec "$NS" qemu-system-x86_64 -m 1536 -nographic -monitor none \
    -boot order=nc -drive file="$W/disk$i.raw",format=raw,if=virtio \
    -netdev tap,id=n0,ifname="tap$i",script=no,downscript=no -device virtio-net-pci,netdev=n0,mac="${MACS[i]}"
  VMS+=("$VM_PID")
done

# the first time each VM's console shows each phase
PHASES=("stage1 kernel booted|ka stage1 (kernel" "stage1 agent started|ka stage1: session"
        "stage2 installed|stage2 installed" "clone written, rebooting|rebooting now"
        "booted from its own disk|KA-CLONE-BOOTED")
qemu_pxe_wait 1200 "$t_vms"
qemu_phase_timings
timing "whole PXE -> clone -> boot from disk, 2 VMs" "$(secs_since "$t_vms")"
grep -E "prepare phase done|stage2 sent" "$W/serve.log" | sed 's/^/  serve: /'

bed_check "both VMs powered off by themselves (the cloned system's ka.poweroff)" test "$ALIVE" = 0
bed_check "ka serve exited 0 (both nodes cloned)" test "${SERVE_RC:-x}" = 0
bed_check "stage2 went through the chain to both nodes" grep -q "stage2 sent to 2 node" "$W/serve.log"
for i in 0 1; do
  bed_check "vm$i: PXE-booted stage1 and fetched stage2" grep -q "stage2 installed" "$W/vm$i.log"
  bed_check "vm$i: GRUB installed by the node's own grub-install (grub-node)" \
    grep -aq "run: /usr/sbin/grub-install --target=i386-pc --boot-directory=" "$W/vm$i.log"
  bed_check "vm$i: the second boot went through that GRUB and the golden's grub.cfg" \
    bash -c "grep -aq 'GNU GRUB' '$W/vm$i.log' && grep -aq 'ka golden (Debian kernel' '$W/vm$i.log'"
  bed_check "vm$i: booted the clone from its own disk" grep -q "KA-CLONE-BOOTED" "$W/vm$i.log"
  bed_check "vm$i: PXE boot switched to local" \
    bash -c "'$KA_BIN' netboot serve '$NB' --interface br0 --show-boot '${MACS[i]}' 2>&1 | grep -qw local"
done
h0=$(grep -ao 'KA-CLONE-BOOTED hostname=[^ ]*' "$W/vm0.log" | tail -n 1 | tr -d '\r')
h1=$(grep -ao 'KA-CLONE-BOOTED hostname=[^ ]*' "$W/vm1.log" | tail -n 1 | tr -d '\r')
echo "  markers: vm0 '$h0', vm1 '$h1'"
bed_check "each clone has its own hostname (node1, node2)" \
  bash -c "[[ '$h0' != '$h1' && '$h0 $h1' =~ node1 && '$h0 $h1' =~ node2 ]]"
bed_check "the report names both MACs" \
  bash -c "grep -q '${MACS[0]}' '$W/report.json' && grep -q '${MACS[1]}' '$W/report.json'"
for i in 0 1; do
  bed_check "vm$i: its disk has the golden's partition table" \
    bash -c "diff <(sfdisk -d '$W/golden.img' | grep -E '^(label|label-id|/)' | sed 's|.*img||') \
                  <(sfdisk -d '$W/disk$i.raw' | grep -E '^(label|label-id|/)' | sed 's|.*raw||') >/dev/null"
done

qemu_save_timings "ka netboot end-to-end (tests/system/netboot_qemu.sh)" netboot-timings.txt
if (( BED_FAILS )); then
  for f in serve.log netboot-serve.log vm0.log vm1.log; do
    echo "---- $f (tail)"; tail -n 40 "$W/$f" 2>/dev/null | tr -d '\r'
  done
  cp "$W"/vm*.log "$W"/serve.log "$ARTIFACTS/" 2>/dev/null
fi
echo "netboot_qemu: $BED_FAILS failure(s)"
(( BED_FAILS == 0 ))
