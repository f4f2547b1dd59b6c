#!/usr/bin/env bash
# System test: real Debian 12 goldens cloned through the chain, then every clone booted from its
# own disk in QEMU (SeaBIOS, the clone's own GRUB and initramfs).
#  1. The goldens (scripts/make-debian-golden.sh --test-hook, cached in /var/cache/ka-test: the
#     first run takes minutes, later ones seconds): MBR (/boot, extended, logical swap, /) and EFI
#     (GPT: bios_grub, an ESP with shim and Debian's signed GRUB, /), 1.5 GiB each, GRUB installed
#     for BIOS and UEFI, root by UUID, Debian's own initramfs.
#  2. For each layout, `ka serve --bootloader grub` clones the image through the chain onto two
#     `ka join` nodes in network namespaces, each with a 2 GiB loop disk (bigger than the golden).
#     Every node builds its private /dev, runs the golden's grub-install and grub-mkconfig in a
#     chroot, checks the grub.cfg it made, and decides (from the drivers it binds: none for a loop
#     disk) not to rebuild the initramfs. The report has every node's phases. The ESP travels block
#     for block (this host's kernel has no vfat) and the nodes cannot mount it either: the PREPARE
#     plan uses it as the golden had it (it holds EFI/BOOT/BOOTX64.EFI), GRUB is installed for BIOS
#     only, and the disks are not erased (the failure of the issue this fixed).
#  3. The four clones boot in QEMU, all at once, on disks of another kind than the golden's (it
#     was made for SATA): MBR clones on NVMe and virtio-blk (SeaBIOS), EFI clones on virtio-blk
#     (SeaBIOS) and NVMe (OVMF with Secure Boot enforced: shim, signed GRUB, signed kernel).
#     Each reaches multi-user.target and its test hook prints hostname, machine-id, SSH host key
#     fingerprint, failed units, `findmnt --verify` and the root device on the serial console,
#     then powers off: hostnames as the template says, machine-ids and keys all new and distinct.
#  4. The MBR golden onto a node that says it boots by UEFI (--node-firmware uefi) is refused in
#     PREPARE with a clear message, its disk untouched.
#  5. A golden whose GRUB names its root by device path (GRUB_DISABLE_LINUX_UUID=true, root=/dev/sda6)
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
qemu_require debootstrap zstd ssh-keygen mkfs.ext4 mkswap mcopy
[[ -f /usr/share/OVMF/OVMF_CODE_4M.ms.fd ]] || { echo "SKIP: ovmf not installed (scripts/setup.sh)"; exit 77; }
lt_trap
qemu_test_begin

# ---- 1. the goldens ----
t=$(qemu_now)
debian_golden mbr || bed_die "cannot build the MBR Debian golden"
MBR=$DG_IMAGE
debian_golden efi || bed_die "cannot build the EFI Debian golden"
EFI=$DG_IMAGE
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
    if [[ $layout == efi ]]; then
      local dv=D_${layout}_$i
      bed_check "$layout node$i: the GPT's disk GUID, PARTUUIDs, partition names and types are the golden's" \
        python3 - "$img" "${!dv}" <<'PY'
import json, subprocess, sys
def ids(dev):
    t = json.loads(subprocess.run(["sfdisk", "--json", dev], capture_output=True, check=True).stdout)["partitiontable"]
    return t["label"], t["id"], [(p["type"], p["uuid"], p.get("name", "")) for p in t["partitions"]]
g, c = ids(sys.argv[1]), ids(sys.argv[2])
print("    golden %s\n    clone  %s" % (g, c))
sys.exit(0 if g == c else 1)
PY
      bed_check "$layout node$i: PREPARE planned BIOS GRUB + the block-copied ESP as it is" \
        grep -q "boot: node firmware BIOS, bootloader grub: BIOS + EFI: the golden's ESP as it is" "$log"
      bed_check "$layout node$i: the ESP used as the golden had it, no EFI grub-install" \
        bash -c "grep -q 'holds /EFI/BOOT/BOOTX64.EFI: used as the golden had it' '$log' &&
                 ! grep -q 'grub-install --target=x86_64-efi' '$log'"
    fi
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

for layout in mbr efi; do
  echo "== $layout golden: ka serve --bootloader grub onto 2 nodes (2 GiB loop disks)"
  t=$(qemu_now)
  if [[ $layout == mbr ]]; then clone mbr "$MBR"; else clone efi "$EFI"; fi
  qemu_timing "$layout: clone through the chain onto 2 loop disks" "$(qemu_secs_since "$t")"
done

# ---- 3. boot the four clones on disks of another kind ----
echo "== booting the 4 clones in QEMU (MBR: NVMe, virtio; EFI: virtio by BIOS, NVMe by UEFI + Secure Boot)"
declare -A KIND=([mbr-1]=nvme [mbr-2]=virtio [efi-1]=virtio [efi-2]=nvme)
declare -A ROOTDEV=([mbr-1]=/dev/nvme0n1p6 [mbr-2]=/dev/vda6 [efi-1]=/dev/vda3 [efi-2]=/dev/nvme0n1p3)
declare -A FIRM=([mbr-1]=bios [mbr-2]=bios [efi-1]=bios [efi-2]=uefi-sb)
t=$(qemu_now)
PIDS=()
for vm in mbr-1 mbr-2 efi-1 efi-2; do
  qemu_disk "${KIND[$vm]}" "$W/${vm%-*}-node${vm#*-}.img" 0 1
  qemu_firmware "${FIRM[$vm]}" "$W/vars-$vm.fd"
  qemu_vm "$vm" "$W/boot-$vm.log" "$QEMU_BIN" -m 1024 -nographic -no-reboot -monitor none -nic none \
    "${QEMU_FW[@]}" "${QEMU_DISK[@]}"
  PIDS+=("$VM_PID")
done
declare -A BOOT
deadline=$(( SECONDS + 600 ))
while (( SECONDS < deadline )); do
  alive=0
  for vm in mbr-1 mbr-2 efi-1 efi-2; do
    [[ -z ${BOOT[$vm]:-} ]] && qemu_seen "$W/boot-$vm.log" "KA-REPORT-END" && BOOT[$vm]=$(qemu_secs_since "$t")
  done
  for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
  (( alive )) || break
  sleep 1
done
qemu_wait_all 1 "${PIDS[@]}"
all_off=$?
for vm in mbr-1 mbr-2 efi-1 efi-2; do
  qemu_timing "$vm on ${KIND[$vm]}: power-on to multi-user and its report (4 VMs at once)" "${BOOT[$vm]:--}"
done
qemu_timing "4 clones booted to multi-user, reported, powered off (parallel)" "$(qemu_secs_since "$t")"
for layout in mbr efi; do
  echo "phases of the $layout clones (seconds):" | tee -a "$W/phases.md"
  dg_phase_table "$W/$layout-report.json" "node1=${BOOT[$layout-1]:--}" "node2=${BOOT[$layout-2]:--}" | tee -a "$W/phases.md"
done
bed_check "every clone powered itself off" test "$all_off" = 0
for vm in mbr-1 mbr-2 efi-1 efi-2; do
  h=HOST_${vm%-*}_${vm#*-}
  dg_check_report "$W/boot-$vm.log" "$vm on ${KIND[$vm]}" "${!h}" "${ROOTDEV[$vm]}"
done
bed_check "efi-2 booted by UEFI with Secure Boot enforced (shim, signed GRUB, signed kernel)" \
  grep -aq "secureboot: Secure boot enabled" "$W/boot-efi-2.log"
bed_check "efi-1 booted by BIOS (no EFI firmware)" bash -c "! grep -aq 'efi: EFI v' '$W/boot-efi-1.log'"

# ---- 4. a BIOS-only golden onto a node that boots by UEFI: refused in PREPARE ----
echo "== the MBR golden onto a UEFI node (--node-firmware uefi): refused before writing"
truncate -s 2G "$W/fw-node.img"
lt_attach "$W/fw-node.img" FN
ka_bg 0 "$W/fw-serve.log" serve --nodes 1 --source "$MBR" --bootloader grub --session "fw$$" \
  --secret-file "$W/secret" --node-firmware uefi
spid=$BED_LAST_PID
bed_wait_tcp 0 30765 60 || { bed_dump "$W/fw-serve.log"; bed_die "the server did not start"; }
ka_bg 1 "$W/fw-join.log" join --disk "$FN" --server "$(bed_ip 0)" --session "fw$$" --secret-file "$W/secret" --name fwnode
jpid=$BED_LAST_PID
bed_check "BIOS golden onto UEFI node: the node fails" ka_rc_is 1 "$jpid"
bed_check "BIOS golden onto UEFI node: the server fails" ka_rc_is 1 "$spid"
bed_check "BIOS golden onto UEFI node: the message says why and what to do" \
  grep -q "this node boots by UEFI (--node-firmware uefi) but the golden's layout boots by BIOS only: clone a golden that carries an EFI system partition" \
  "$W/fw-join.log.err"
bed_check "BIOS golden onto UEFI node: nothing written (the disk is still all zeros)" cmp -s -n 8388608 "$FN" /dev/zero
losetup -d "$FN"; LT_LOOPS=()

# ---- 5. a golden whose GRUB names the root by device path is refused ----
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
  for vm in mbr-1 mbr-2 efi-1 efi-2; do echo "---- boot-$vm (tail)"; qemu_console_tail "$W/boot-$vm.log" 25; done
  cp "$W"/boot-*.log "$W"/*.log.err "$ARTIFACTS/" 2>/dev/null
  echo "debian_clone: FAIL ($BED_FAILS checks failed)"; exit 1
fi
echo "debian_clone: PASS"
