#!/usr/bin/env bash
# System test: the seed's own scenario. A QEMU machine booted from the Debian golden (MBR: /boot,
# logical swap, /; on an NVMe disk) runs `ka serve --source /` on itself while it runs: it reads
# its mounted filesystems through read-only bind mounts, serves stage2 and then itself through the
# chain, and switches the nodes' PXE boot. Two other machines with blank disks of other kinds
# (SATA on AHCI, SCSI on virtio-scsi; 2 GiB) PXE-boot stage1 from `ka netboot serve` (dnsmasq in a
# namespace), are cloned from the running golden, reboot and boot the Debian clone from their own
# disks; their test hooks report on the serial consoles. While it serves, the golden keeps
# writing to a file (/var/log/ka-live-growing): the report lists it as changed during the copy.
# Before serving it writes a file into its root filesystem's /boot directory, under the /boot
# mount: the clone's root filesystem must have it (bind mounts, not the live tree).
# How the golden machine is driven (docs/golden-images.md, the test hook): QEMU passes it a script
# as fw_cfg opt/ka/run; a 9p share (virtio-9p) carries ka with its libraries, the netboot files
# (the golden writes the nodes' per-MAC PXE files into the TFTP root the host's dnsmasq serves)
# and the secret, and takes back ka's log and report.
# Timings: build/test-artifacts/debian-live-timings.txt. Env: KA_KEEP=1 keeps the work dir.
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2016  # single-quoted checks are eval'd by bed_check
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"
# shellcheck source=../lib/qemu.bash
. "$(dirname "$0")/../lib/qemu.bash"
# shellcheck source=../lib/debian_golden.bash
. "$(dirname "$0")/../lib/debian_golden.bash"
# shellcheck source=../lib/clone_check.bash
. "$(dirname "$0")/../lib/clone_check.bash"

bed_require_root
bed_require_ka
qemu_require /usr/sbin/dnsmasq debootstrap zstd ssh-keygen dpkg-deb depmod cpio sfdisk ldd
[[ -f /usr/lib/PXELINUX/pxelinux.0 ]] || { echo "SKIP: pxelinux not installed (scripts/setup.sh)"; exit 77; }
cc_trap   # cleanup: the clones' mounts, the bed
bed_workdir
W=$BED_WORK
chmod 0755 "$W"
qemu_test_begin

S=$W/share   # the golden machine's 9p share
mkdir -p "$S/ka/lib"
qemu_netboot_ready "$S/nb"
t=$(qemu_now)
debian_golden mbr || bed_die "cannot build the MBR Debian golden"
cp --sparse=always "$DG_IMAGE" "$W/golden.img"   # the golden machine writes to its disk
dg_golden_identity "$W/golden.img" 6 || bed_die "cannot read the golden's identity"
qemu_timing "MBR Debian golden (cached) and its copy" "$(qemu_secs_since "$t")"

# ka for the golden: the binary and its libraries (glibc is the golden's own, same Debian 12)
cp "$KA_BIN" "$S/ka/ka"
ldd "$KA_BIN" | awk '/=>/ { print $3 }' | grep -vE '/(libc|libm|libpthread|libdl|librt)\.so|ld-linux' \
  | while read -r lib; do cp -L "$lib" "$S/ka/lib/"; done
bed_secret "$S/secret"
cat >"$W/golden-run.sh" <<'EOF'
#!/bin/sh
# Run by the golden's test hook (fw_cfg opt/ka/run): serve this running system to the nodes.
set -u
modprobe 9p; modprobe 9pnet_virtio
mkdir -p /run/ka-share
mount -t 9p -o trans=virtio,version=9p2000.L kashare /run/ka-share || { echo "KA-GOLDEN no share"; systemctl poweroff; exit 1; }
mkdir -p /run/systemd/network
printf '[Match]\nName=en* eth*\n\n[Network]\nAddress=10.79.0.2/24\n' >/run/systemd/network/10-ka-live.network
systemctl start systemd-networkd
for i in $(seq 60); do grep -q '10\.79\.0\.2' /proc/net/fib_trie && break; sleep 1; done
# The running system's own files: one written now, one under the /boot mount point of /,
# one that keeps growing while it is copied.
mkdir -p /var/lib/ka-live && cat /proc/sys/kernel/random/boot_id >/var/lib/ka-live/written-while-running
mkdir -p /run/rootview && mount --bind / /run/rootview \
  && echo "in / under the /boot mount" >/run/rootview/boot/under-the-boot-mount && umount /run/rootview
head -c 33554432 /dev/zero >/var/log/ka-live-growing
( while :; do echo "still running" >>/var/log/ka-live-growing; sleep 0.05; done ) &
echo "KA-GOLDEN serving / as $(cat /etc/hostname), $(findmnt -no SOURCE /)"
cd /run/ka-share || exit 1
LD_LIBRARY_PATH=/run/ka-share/ka/lib /run/ka-share/ka/ka serve --source / -n 2 --bootloader grub \
  --stage2 /run/ka-share/nb/stage2.ka --pxe-root /run/ka-share/nb/tftp --bind 10.79.0.2 \
  --secret-file /run/ka-share/secret --hostname-template 'live-{index}' --session-dir /run/ka-session \
  --report /run/ka-share/report.json --join-timeout 900 >/run/ka-share/serve.log 2>&1
rc=$?
sync
echo "KA-GOLDEN serve exited $rc"
umount /run/ka-share
systemctl poweroff
EOF

NS=${BED_PREFIX}live
qemu_net_up "$NS" 10.79.0 3
GMAC=52:54:00:6b:02:00
MACS=(52:54:00:6b:02:01 52:54:00:6b:02:02)
KINDS=(sata scsi)
for i in 0 1; do truncate -s 2G "$W/disk$i.raw"; done
qemu_netboot_serve "$NB" 10.79.0 10.79.0.2 "$S/secret" --tries 40

echo "== the golden machine (NVMe) serves itself; two machines (SATA, SCSI) PXE-boot and are cloned"
t_vms=$(qemu_now)
qemu_disk nvme "$W/golden.img" 0 1
qemu_vm golden "$W/golden.log" ip netns exec "$NS" "$QEMU_BIN" -m 1024 -nographic -monitor none -no-reboot \
  "${QEMU_DISK[@]}" -netdev "tap,id=n0,ifname=tap2,script=no,downscript=no" \
  -device "virtio-net-pci,netdev=n0,mac=$GMAC,romfile=" \
  -virtfs "local,path=$S,mount_tag=kashare,security_model=passthrough,id=kashare" \
  -fw_cfg "name=opt/ka/run,file=$W/golden-run.sh"
GOLDEN_VM=$VM_PID
qemu_pxe_vms

PHASES=("stage2 installed|stage2 installed" "clone written, rebooting|rebooting now"
        "Debian clone reached multi-user, reported|KA-REPORT-END")
GOLDEN_PHASES=("golden: booted, serving itself|KA-GOLDEN serving"
               "golden: ka serve done (stage2 + both clones)|KA-GOLDEN serve exited")
# golden_watch: SEEN[NAME] for the golden machine's GOLDEN_PHASES (qemu_pxe_wait calls it)
golden_watch() {
  local p
  for p in "${GOLDEN_PHASES[@]}"; do qemu_seen_at "${p%%|*}" "$W/golden.log" "${p#*|}" "$t_vms"; done
}
QEMU_WATCH=golden_watch qemu_pxe_wait 1800 "$t_vms" "$GOLDEN_VM"
for p in "${GOLDEN_PHASES[@]}"; do qemu_timing "${p%%|*} (since QEMU start)" "${SEEN[${p%%|*}]:--}"; done
qemu_phase_timings
qemu_timing "whole: golden boots, serves itself, 2 PXE clones boot from disk" "$(qemu_secs_since "$t_vms")"

bed_check "every machine powered off by itself" test "$ALIVE" = 0
bed_check "the golden's ka serve exited 0" qemu_seen "$W/golden.log" "KA-GOLDEN serve exited 0"
bed_check "the golden served / from its own NVMe disk" grep -q "golden / (/dev/nvme0n1)" "$S/serve.log"
bed_check "its mounted filesystems were read through read-only bind mounts (/ and /boot)" \
  bash -c "grep -q 'is mounted at /: reading it through a read-only bind mount' '$S/serve.log' && grep -q 'is mounted at /boot: reading it through a read-only bind mount' '$S/serve.log'"
bed_check "the report: both nodes cloned, live golden, phases, the growing file listed as changed" \
  python3 - "$S/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r["clone"]
ch = c["changed_during_copy"]
print("    %d node(s) ok; live %s; %d file(s) changed during the copy:" % (len(r["ok"]), c.get("live"), ch["count"]))
for f in ch["listed"][:10]:
    print("      %s: %s" % (f["path"], f["what"]))
for n in r["nodes"]:
    print("    %s: %s" % (n["name"], ", ".join("%s %.1f s" % kv for kv in sorted(n.get("phases", {}).items()))))
print("    session: prepare %.1f s, stream %.1f s (%.1f MiB/s per node), whole %.1f s" % (
    r.get("prepare_seconds", -1), r["seconds"], r["throughput_mib_s"], r["session_seconds"]))
grew = any(f["path"] == "/var/log/ka-live-growing" and "while it was read" in f["what"] for f in ch["listed"])
links = [f["path"] for f in ch["listed"] if "size 0 ->" in f["what"]]  # hardlinks' later names: no data, no check
if links:
    print("    hardlinks listed as changed: %s" % links)
sys.exit(0 if len(r["ok"]) == 2 and c.get("live") is True and grew and not links else 1)
PY
# vm_checks LOG WHAT: initramfs and GRUB of a cloned VM (dg_check_pxe_vms calls it)
vm_checks() {
  bed_check "$2: the golden's initramfs already reaches its disk: not rebuilt" \
    grep -aq "initramfs: not rebuilt: every kernel's initramfs already reaches this node's disk" "$1"
  bed_check "$2: GRUB checked" grep -aq "bootloader: /boot/grub/grub.cfg checked" "$1"
}
dg_check_pxe_vms vm_checks /dev/sda6 /dev/sda6
echo "== the clones' root filesystems: the running system's state, files under mount points, no pseudo filesystems"
# dirs_of ROOT: what /proc, /sys, /dev and /run hold in a root filesystem (on disk, under the mounts)
dirs_of() { (cd "$1" && for d in proc sys dev run; do printf '%s: ' "$d"; ls -A "$d" | tr '\n' ' '; echo; done); }
if cc_mount "$W/golden.img" 6 ext4 "$W/golden-root"; then
  dirs_of "$W/golden-root" >"$W/golden-dirs"
  cc_umount_all
fi
for i in 0 1; do
  m=$W/clone$i
  if cc_mount "$W/disk$i.raw" 6 ext4 "$m"; then
    bed_check "vm$i: the file the running golden wrote is on the clone" test -s "$m/var/lib/ka-live/written-while-running"
    bed_check "vm$i: the file under the golden's /boot mount point is in its root filesystem" \
      test -f "$m/boot/under-the-boot-mount"
    bed_check "vm$i: /proc, /sys, /dev, /run hold what the golden's root filesystem holds there, nothing of the running system" \
      diff "$W/golden-dirs" <(dirs_of "$m")
    bed_check "vm$i: nothing of the 9p share or of ka's mounts" \
      bash -c "[[ ! -e '$m/run/ka-share' && ! -e '$m/run/ka' && ! -e '$m/proc/1' ]]"
    cc_umount_all
  else
    bed_check "vm$i: its root filesystem mounts" false
  fi
done
dg_boot_phases "$S/report.json" "clone written, rebooting" "Debian clone reached multi-user, reported"
qemu_timing "whole test" "$(qemu_secs_since "$T_ALL")"

qemu_save_timings tests/system/debian_live_golden.sh debian-live-timings.txt "$W/phases.md"
cp "$S/report.json" "$ARTIFACTS/debian-live-report.json" 2>/dev/null
if (( BED_FAILS )); then
  echo "---- golden serve.log (tail)"; tail -n 30 "$S/serve.log" 2>/dev/null
  echo "---- golden console (tail)"; qemu_console_tail "$W/golden.log" 30
  for i in 0 1; do echo "---- vm$i (tail)"; qemu_console_tail "$W/vm$i.log" 40; done
  cp "$W"/golden.log "$W"/vm*.log "$S/serve.log" "$ARTIFACTS/" 2>/dev/null
  echo "debian_live_golden: FAIL ($BED_FAILS checks failed)"; exit 1
fi
echo "debian_live_golden: PASS"
