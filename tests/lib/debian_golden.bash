# shellcheck shell=bash
# tests/lib/debian_golden.bash - the real Debian 12 golden of the boot tests (scripts/make-debian-golden.sh
# --test-hook, cached under /var/cache/ka-test and shared by every test) and the checks of a
# booted clone's console report. Source after tests/lib/bed.sh and tests/lib/qemu.bash.
#
#   debian_golden LAYOUT            sets DG_IMAGE: the cached golden image of LAYOUT (mbr | gpt | efi),
#                                   built the first time (minutes: debootstrap), then reused
#                                   (seconds); never write to it (copy it: cp --sparse=always).
#                                   mbr: p1 /boot, p5 swap, p6 /; gpt: p1 bios_grub, p2 /; efi:
#                                   p1 bios_grub, p2 ESP (FAT32 100 MiB, /boot/efi, shim + signed
#                                   GRUB in EFI/debian and EFI/BOOT), p3 /: boots BIOS and UEFI,
#                                   with Secure Boot too
#   dg_golden_identity IMG ROOTPART reads the golden's machine-id and SSH host key fingerprint
#                                   (DG_GOLDEN_MACHINE_ID, DG_GOLDEN_SSH) from partition ROOTPART of IMG
#   dg_check_report LOG WHAT HOST ROOTDEV
#                                   bed_checks of one booted clone: KA-REPORT-END seen, its GRUB (BIOS
#                                   or, reported firmware=uefi, UEFI) and initramfs, hostname HOST,
#                                   machine-id and SSH key not the golden's nor another clone's,
#                                   multi-user active, no failed unit, fstab resolves, root=UUID=
#                                   on the kernel command line and / mounted from ROOTDEV (/dev/nvme0n1p6)
#   dg_check_firmware LOG WHAT FIRMWARE SECUREBOOT
#                                   bed_checks of a booted golden or clone's report: booted through
#                                   FIRMWARE (bios | uefi), Secure Boot SECUREBOOT (1 enforced, 0 off,
#                                   - for BIOS; with 1 the kernel must also say "Secure boot enabled")
#                                   and, for uefi, /boot/efi mounted
#   dg_check_pxe_vms CHECKS ROOTDEV...   the checks of every network-booted VM of MACS
#   dg_phase_table REPORT [NAME_OR_MAC=BOOT_SECONDS...]   the nodes' phases as a markdown table
#   dg_boot_phases REPORT REBOOTED REPORTED   $W/phases.md: that table for the PXE VMs of MACS
# Fixed ids of the golden (scripts/make-debian-golden.sh): filesystem UUIDs 6b61deb0-...-0000000000NN
# (NN the partition number), GPT partition GUIDs 6b61deb0-...-0000000001NN, the efi layout's ESP
# UUID=6B61-0002 (FAT volume id 6b610002).

DG_UUID_PREFIX=6b61deb0-0000-4000-8000-0000000000
# shellcheck disable=SC2034  # DG_PARTUUID_PREFIX, DG_ESP_UUID: for the tests
DG_PARTUUID_PREFIX=6b61deb0-0000-4000-8000-0000000001 DG_ESP_UUID=6B61-0002
DG_IMAGE=""
DG_GOLDEN_MACHINE_ID="" DG_GOLDEN_SSH=""
DG_SEEN=()   # machine-ids and fingerprints of the clones checked so far

debian_golden() {
  local out
  out=$(bash "$KA_ROOT/scripts/make-debian-golden.sh" --test-hook --layout "$1" --cache "$QEMU_CACHE") \
    || return 1
  DG_IMAGE=$(tail -n 1 <<<"$out")
  [[ -f $DG_IMAGE ]]
}

dg_golden_identity() {
  local img=$1 n=$2 dir range
  dir=$(mktemp -d)
  range=$(sfdisk --json "$img" | python3 -c '
import json, re, sys
t = json.load(sys.stdin)["partitiontable"]
for p in t["partitions"]:
    if re.search(r"(\d+)$", p["node"]).group(1) == sys.argv[1]:
        print(p["start"] * 512, p["size"] * 512)' "$n")
  # shellcheck disable=SC2086  # two numbers, split on purpose
  set -- $range
  if mount -o ro,noload,loop,offset="$1",sizelimit="$2" -t ext4 "$img" "$dir"; then
    DG_GOLDEN_MACHINE_ID=$(cat "$dir/etc/machine-id")
    DG_GOLDEN_SSH=$(ssh-keygen -lf "$dir/etc/ssh/ssh_host_ed25519_key.pub" | cut -d' ' -f2)
    umount "$dir"
  fi
  rmdir "$dir"
  [[ -n $DG_GOLDEN_MACHINE_ID && -n $DG_GOLDEN_SSH ]]
}

# _dg_fresh VALUE: not empty, not the golden's, not seen on another clone
_dg_fresh() {
  local v=$1 s
  [[ -n $v && $v != "$DG_GOLDEN_MACHINE_ID" && $v != "$DG_GOLDEN_SSH" ]] || return 1
  for s in "${DG_SEEN[@]}"; do [[ $s != "$v" ]] || return 1; done
  return 0
}

dg_check_report() {
  local log=$1 what=$2 host=$3 rootdev=$4 mid ssh cmdline root
  bed_check "$what: booted from its own disk to multi-user and reported" qemu_seen "$log" "KA-REPORT-END"
  # GRUB's first words: "GRUB loading" from its BIOS boot code; under UEFI (the efi layout) the
  # signed grubx64.efi, started by shim, says only "Welcome to GRUB!"
  local grub_hello="GRUB loading"
  [[ $(qemu_report "$log" firmware) == uefi ]] && grub_hello="Welcome to GRUB!"
  bed_check "$what: its own GRUB and initramfs (GRUB's boot code, its grub.cfg, the initramfs)" \
    bash -c "grep -aq '$grub_hello' '$log' && grep -aq 'Loading Linux' '$log' && grep -aq 'Loading initial ramdisk' '$log'"
  bed_check "$what: hostname $host" test "$(qemu_report "$log" hostname)" = "$host"
  mid=$(qemu_report "$log" machine-id)
  ssh=$(qemu_report "$log" ssh-ed25519)
  echo "    $what: machine-id $mid, ssh ed25519 $ssh"
  bed_check "$what: a machine-id of its own (not the golden's, not another clone's)" _dg_fresh "$mid"
  bed_check "$what: an SSH host key of its own (not the golden's, not another clone's)" _dg_fresh "$ssh"
  [[ -n $mid ]] && DG_SEEN+=("$mid")
  [[ -n $ssh ]] && DG_SEEN+=("$ssh")
  bed_check "$what: multi-user.target active" test "$(qemu_report "$log" multi-user)" = active
  bed_check "$what: systemctl --failed is empty ($(qemu_report "$log" failed-units))" \
    test "$(qemu_report "$log" failed-units)" = none
  bed_check "$what: fstab resolves (findmnt --verify)" test "$(qemu_report "$log" fstab)" = ok
  cmdline=$(qemu_report "$log" cmdline)
  root=$(qemu_report "$log" root)
  bed_check "$what: kernel command line names / by UUID ($cmdline)" grep -q "root=UUID=$DG_UUID_PREFIX" <<<"$cmdline"
  bed_check "$what: / mounted from $rootdev ($root)" grep -q "^root=$rootdev " <<<"root=$root"
}

dg_check_firmware() {
  local log=$1 what=$2 fw=$3 sb=$4
  bed_check "$what: booted through $fw firmware" test "$(qemu_report "$log" firmware)" = "$fw"
  bed_check "$what: Secure Boot $sb ($(qemu_report "$log" secureboot-kernel))" \
    test "$(qemu_report "$log" secureboot)" = "$sb"
  if [[ $sb == 1 ]]; then
    bed_check "$what: the kernel says Secure boot enabled" \
      grep -qi "enabled" <<<"$(qemu_report "$log" secureboot-kernel)"
  fi
  if [[ $fw == uefi ]]; then
    bed_check "$what: /boot/efi mounted ($(qemu_report "$log" esp))" test "$(qemu_report "$log" esp)" != -
  fi
}

# dg_check_pxe_vms CHECKS ROOTDEV...: bed_checks of every network-booted VM I of MACS (console
# $W/vmI.log, named "vmI (KINDS[I])"): it installed stage2; the test's own checks, its function
# CHECKS called as CHECKS LOG WHAT I; its clone booted and reported (dg_check_report: the hostname
# its node logged, / mounted from the Ith ROOTDEV)
dg_check_pxe_vms() {
  local checks=$1 i log what host
  shift
  for i in "${!MACS[@]}"; do
    log=$W/vm$i.log what="vm$i (${KINDS[i]})"
    bed_check "$what: PXE-booted stage1 and installed stage2" qemu_seen "$log" "stage2 installed"
    "$checks" "$log" "$what" "$i"
    host=$(grep -ao "this node will be [a-z0-9-]*" "$log" | head -n 1 | awk '{print $5}')
    dg_check_report "$log" "$what" "${host:-?}" "${@:i+1:1}"
  done
}

# dg_phase_table REPORT [NAME_OR_MAC=BOOT_SECONDS...]: the phases of every node of a `ka serve`
# report as a markdown table (prepare, stream, individualise, initramfs, bootloader from the report;
# boot, as the test measured it: from the clone's reboot or power-on to its KA-REPORT-END line)
dg_phase_table() {
  python3 - "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
boots = dict(a.split("=", 1) for a in sys.argv[2:])
print("| node | prepare | stream | individualise | initramfs | bootloader | boot |")
print("|---|---|---|---|---|---|---|")
for n in r["nodes"]:
    ph = n.get("phases", {})
    f = lambda k: "%.1f" % ph[k] if k in ph else "-"
    boot = boots.get(n["name"]) or boots.get(n.get("mac", "")) or "-"
    print("| %s | %.1f | %s | %s | %s | %s | %s |" % (n["name"], r.get("prepare_seconds", 0), f("stream"),
          f("individualise"), f("initramfs"), f("bootloader"), boot))
print("session: prepare %.1f s, stream %.1f s (%.1f MiB/s per node, %.0f MiB), whole session %.1f s" % (
    r.get("prepare_seconds", 0), r["seconds"], r["throughput_mib_s"], r["bytes"] / 1048576, r["session_seconds"]))
PY
}

# dg_boot_phases REPORT REBOOTED REPORTED: the phases of REPORT (dg_phase_table) with each network-booted
# VM's boot time, from its phase REBOOTED to its phase REPORTED (SEEN[I,NAME] of qemu_pxe_wait),
# written to $W/phases.md and printed
dg_boot_phases() {
  local report=$1 i r e boots=()
  for i in "${!MACS[@]}"; do
    r=${SEEN[$i,$2]:-} e=${SEEN[$i,$3]:-}
    [[ -n $r && -n $e ]] && boots+=("${MACS[i]}=$(python3 -c "print('%.1f' % ($e - $r))")")
  done
  echo "phases (seconds; boot: reboot to the clone's report):" | tee "$W/phases.md"
  dg_phase_table "$report" "${boots[@]}" | tee -a "$W/phases.md"
}
