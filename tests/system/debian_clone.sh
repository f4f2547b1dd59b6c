#!/usr/bin/env bash
# System test: real Debian 12 goldens cloned through the chain, then every clone booted from its
# own disk in QEMU (SeaBIOS, the clone's own GRUB and initramfs).
#  1. The goldens (scripts/make-debian-golden.sh --test-hook, cached in /var/cache/ka-test: the
#     first run takes minutes, later ones seconds): MBR (/boot, extended, logical swap, /) and GPT
#     (bios_grub, /), 1.5 GiB each, GRUB installed, root by UUID, Debian's own initramfs.
#  2. For each layout, `ka serve --bootloader grub` clones the image through the chain onto two
#     `ka join` nodes in network namespaces, each with a 2 GiB loop disk (bigger than the golden).
#     Every node builds its private /dev, runs the golden's grub-install and grub-mkconfig in a
#     chroot, checks the grub.cfg it made, and decides (from the drivers it binds: none for a loop
#     disk) not to rebuild the initramfs. The report has every node's phases.
#  3. The four clones boot in QEMU, all at once, on disks of another kind than the golden's (it
#     was made for SATA): MBR clones on NVMe and virtio-blk, GPT clones on virtio-blk and NVMe.
#     Each reaches multi-user.target and its test hook prints hostname, machine-id, SSH host key
#     fingerprint, failed units, `findmnt --verify` and the root device on the serial console,
#     then powers off: hostnames as the template says, machine-ids and keys all new and distinct.
#  4. A golden whose GRUB names its root by device path (GRUB_DISABLE_LINUX_UUID=true, root=/dev/sda6)
#     is refused by the node's boot loader check: the node fails quoting the line, its disk is
#     marked not cloned. That golden also has no initramfs (and MODULES=list): before the boot
#     loader step the node builds one for real in its chroot (update-initramfs -c) and checks it.
# Timings: build/test-artifacts/debian-clone-timings.txt. Env: KA_KEEP=1 keeps the work dir.
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2016  # single-quoted checks are eval'd by bed_check
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"
# shellcheck source=layout_lib.bash
. "$(dirname "$0")/layout_lib.bash"
# shellcheck source=../lib/qemu.bash
. "$(dirname "$0")/../lib/qemu.bash"
# shellcheck source=../lib/debian_golden.bash
. "$(dirname "$0")/../lib/debian_golden.bash"

KA_TIMEOUT=${KA_TIMEOUT:-600}
bed_require_root
bed_require_ka
bed_workdir
W=$BED_WORK
lt_require
qemu_require debootstrap zstd ssh-keygen mkfs.ext4 mkswap
lt_trap
qemu_test_begin

# ---- 1. the goldens ----
t=$(qemu_now)
debian_golden mbr || bed_die "cannot build the MBR Debian golden"
MBR=$DG_IMAGE
debian_golden gpt || bed_die "cannot build the GPT Debian golden"
GPT=$DG_IMAGE
qemu_timing "Debian goldens (cached in $QEMU_CACHE, else debootstrap)" "$(qemu_secs_since "$t")"
dg_golden_identity "$MBR" 6 || bed_die "cannot read the golden's machine-id and SSH key"
echo "  golden: machine-id $DG_GOLDEN_MACHINE_ID, ssh ed25519 $DG_GOLDEN_SSH"

bed_secret "$W/secret"
bed_up 2 || exit 1

# clone LAYOUT IMAGE: ka serve + 2 ka join onto 2 GiB loop disks; sets HOST_OF_node1/2
clone() {
  local layout=$1 img=$2 i d spid jp1 jp2
  local sess=deb$layout$$
  for i in 1 2; do
    truncate -s 2G "$W/$layout-node$i.img"
    lt_attach "$W/$layout-node$i.img" "D_${layout}_$i"
  done
  ka_bg 0 "$W/$layout-serve.log" serve --nodes 2 --source "$img" --bootloader grub --session "$sess" \
    --secret-file "$W/secret" --hostname-template "deb-$layout-{index}" --report "$W/$layout-report.json" \
    --progress-interval 5
  spid=$BED_LAST_PID
  bed_wait_tcp 0 30765 60 || { bed_dump "$W/$layout-serve.log"; bed_die "the $layout server did not start"; }
  for i in 1 2; do
    d=D_${layout}_$i
    ka_bg "$i" "$W/$layout-join$i.log" join --disk "${!d}" --server "$(bed_ip 0)" --session "$sess" \
      --secret-file "$W/secret" --name "node$i"
    printf -v "jp$i" '%s' "$BED_LAST_PID"
  done
  bed_check "$layout: server exits 0" ka_rc_is 0 "$spid"
  bed_check "$layout: node1 exits 0" ka_rc_is 0 "$jp1"
  bed_check "$layout: node2 exits 0" ka_rc_is 0 "$jp2"
  for i in 1 2; do
    local log=$W/$layout-join$i.log.err
    bed_check "$layout node$i: chroot with a private /dev holding its disk" grep -q "private /dev .*block device" "$log"
    bed_check "$layout node$i: GRUB from the golden, in the chroot" \
      grep -q "run: /usr/sbin/chroot .* /usr/sbin/grub-install --target=i386-pc" "$log"
    bed_check "$layout node$i: its grub.cfg checked: root by UUID, no device of this host" \
      grep -q "bootloader: /boot/grub/grub.cfg checked: .* root=UUID=$DG_UUID_PREFIX" "$log"
    bed_check "$layout node$i: the initramfs not rebuilt, and the log says why" \
      grep -q "initramfs: not rebuilt" "$log"
    local h
    h=$(grep -o "this node will be [a-z0-9-]*" "$log" | head -n 1 | awk '{print $5}')
    printf -v "HOST_${layout}_$i" '%s' "$h"
  done
  bed_check "$layout: the report has every node's phases and stream rate" python3 - "$W/$layout-report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = True
for n in r["nodes"]:
    ph = n.get("phases", {})
    want = ["partition", "format", "stream", "individualise", "initramfs", "bootloader"]
    missing = [p for p in want if p not in ph]
    print("    %s: %s; stream %.1f MiB/s" % (n["name"], ", ".join("%s %.1f s" % (p, ph.get(p, -1)) for p in want),
                                          n.get("stream_mib_s", 0)))
    ok &= not missing and n.get("stream_mib_s", 0) > 0
print("    session: prepare %.1f s, stream %.1f s, whole %.1f s" % (r.get("prepare_seconds", -1), r["seconds"],
                                                                   r["session_seconds"]))
sys.exit(0 if ok and r["session_seconds"] >= r["seconds"] else 1)
PY
  grep -A3 "node (seconds)" "$W/$layout-serve.log" | sed 's/^/    /'
  for i in 1 2; do d=D_${layout}_$i; losetup -d "${!d}"; done
  LT_LOOPS=()
}

for layout in mbr gpt; do
  echo "== $layout golden: ka serve --bootloader grub onto 2 nodes (2 GiB loop disks)"
  t=$(qemu_now)
  if [[ $layout == mbr ]]; then clone mbr "$MBR"; else clone gpt "$GPT"; fi
  qemu_timing "$layout: clone through the chain onto 2 loop disks" "$(qemu_secs_since "$t")"
done

# ---- 3. boot the four clones on disks of another kind ----
echo "== booting the 4 clones in QEMU (MBR: NVMe, virtio; GPT: virtio, NVMe)"
declare -A KIND=([mbr-1]=nvme [mbr-2]=virtio [gpt-1]=virtio [gpt-2]=nvme)
declare -A ROOTDEV=([mbr-1]=/dev/nvme0n1p6 [mbr-2]=/dev/vda6 [gpt-1]=/dev/vda2 [gpt-2]=/dev/nvme0n1p2)
t=$(qemu_now)
PIDS=()
for vm in mbr-1 mbr-2 gpt-1 gpt-2; do
  qemu_disk "${KIND[$vm]}" "$W/${vm%-*}-node${vm#*-}.img" 0 1
  qemu_vm "$vm" "$W/boot-$vm.log" "$QEMU_BIN" -m 1024 -nographic -no-reboot -monitor none -nic none \
    "${QEMU_DISK[@]}"
  PIDS+=("$VM_PID")
done
declare -A BOOT
deadline=$(( SECONDS + 600 ))
while (( SECONDS < deadline )); do
  alive=0
  for vm in mbr-1 mbr-2 gpt-1 gpt-2; do
    [[ -z ${BOOT[$vm]:-} ]] && qemu_seen "$W/boot-$vm.log" "KA-REPORT-END" && BOOT[$vm]=$(qemu_secs_since "$t")
  done
  for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
  (( alive )) || break
  sleep 1
done
qemu_wait_all 1 "${PIDS[@]}"
all_off=$?
for vm in mbr-1 mbr-2 gpt-1 gpt-2; do
  qemu_timing "$vm on ${KIND[$vm]}: power-on to multi-user and its report (4 VMs at once)" "${BOOT[$vm]:--}"
done
qemu_timing "4 clones booted to multi-user, reported, powered off (parallel)" "$(qemu_secs_since "$t")"
for layout in mbr gpt; do
  echo "phases of the $layout clones (seconds):" | tee -a "$W/phases.md"
  dg_phase_table "$W/$layout-report.json" "node1=${BOOT[$layout-1]:--}" "node2=${BOOT[$layout-2]:--}" | tee -a "$W/phases.md"
done
bed_check "every clone powered itself off" test "$all_off" = 0
for vm in mbr-1 mbr-2 gpt-1 gpt-2; do
  h=HOST_${vm%-*}_${vm#*-}
  dg_check_report "$W/boot-$vm.log" "$vm on ${KIND[$vm]}" "${!h}" "${ROOTDEV[$vm]}"
done

# ---- 4. a golden whose GRUB names the root by device path is refused ----
echo "== a golden with root=/dev/sda6 in its grub.cfg: the node's check refuses it"
t=$(qemu_now)
cp --sparse=always "$MBR" "$W/devpath.img"
lt_attach "$W/devpath.img" DP
partx -a "$DP"
mkdir -p "$W/dp"
if ! mount "${DP}p6" "$W/dp" || ! mount "${DP}p1" "$W/dp/boot"; then bed_die "cannot mount the device-path golden"; fi
echo 'GRUB_DISABLE_LINUX_UUID=true' >>"$W/dp/etc/default/grub"
sed -i "s|root=UUID=${DG_UUID_PREFIX}06|root=/dev/sda6|" "$W/dp/boot/grub/grub.cfg"
rm -f "$W"/dp/boot/initrd.img-*
echo 'MODULES=list' >"$W/dp/etc/initramfs-tools/conf.d/ka-test-small"
umount "$W/dp/boot" "$W/dp"
partx -d "$DP"; losetup -d "$DP"; LT_LOOPS=()
truncate -s 2G "$W/dp-node.img"
lt_attach "$W/dp-node.img" DN
ka_bg 0 "$W/dp-serve.log" serve --nodes 1 --source "$W/devpath.img" --bootloader grub --session "dp$$" \
  --secret-file "$W/secret" --report "$W/dp-report.json"
spid=$BED_LAST_PID
bed_wait_tcp 0 30765 60 || { bed_dump "$W/dp-serve.log"; bed_die "the server did not start"; }
ka_bg 1 "$W/dp-join.log" join --disk "$DN" --server "$(bed_ip 0)" --session "dp$$" --secret-file "$W/secret" --name dpnode
jpid=$BED_LAST_PID
bed_check "device-path golden: the node fails" ka_rc_is 1 "$jpid"
bed_check "device-path golden: its missing initramfs is built in the chroot, and checked" \
  bash -c "grep -q 'initramfs: kernel .* does not exist: building it' '$W/dp-join.log.err' &&
           grep -q 'run: /usr/sbin/chroot .* /usr/sbin/update-initramfs -c -k ' '$W/dp-join.log.err' &&
           grep -q 'initramfs: /boot/initrd.img-[^ ]* rebuilt' '$W/dp-join.log.err'"
bed_check "device-path golden: the server reports it failed" ka_rc_is 1 "$spid"
bed_check "device-path golden: the error quotes the generated line and says the golden did the same" \
  grep -q "names the root filesystem by device path root=/dev/loop[0-9]*p6.*line [0-9]*: 'linux.*root=/dev/loop[0-9]*p6.*the golden's own grub.cfg does the same (line [0-9]*: root=/dev/sda6)" \
  "$W/dp-join.log.err"
bed_check "device-path golden: the disk is marked not cloned (no partition table left)" \
  bash -c "! sfdisk -d '$DN' >/dev/null 2>&1 && cmp -s -n 1048576 '$DN' /dev/zero"
bed_check "device-path golden: the report names the failed step" \
  grep -q "checking the boot loader" "$W/dp-report.json"
qemu_timing "device-path golden refused" "$(qemu_secs_since "$t")"
qemu_timing "whole test" "$(qemu_secs_since "$T_ALL")"
bed_check "no ka mounts left" bash -c "! grep -q ' /run/ka/' /proc/self/mountinfo"

qemu_save_timings tests/system/debian_clone.sh debian-clone-timings.txt "$W/phases.md"
if (( BED_FAILS )); then
  for f in "$W"/*-serve.log "$W"/*-join*.log; do bed_dump "$f"; done
  for vm in mbr-1 mbr-2 gpt-1 gpt-2; do echo "---- boot-$vm (tail)"; qemu_console_tail "$W/boot-$vm.log" 25; done
  cp "$W"/boot-*.log "$W"/*.log.err "$ARTIFACTS/" 2>/dev/null
  echo "debian_clone: FAIL ($BED_FAILS checks failed)"; exit 1
fi
echo "debian_clone: PASS"
