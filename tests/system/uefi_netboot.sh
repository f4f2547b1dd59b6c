#!/usr/bin/env bash
# System test: UEFI and Secure Boot network boot of stage1 on emulated machines (OVMF, TCG).
# No clone and no ka server: a node that reaches stage1 tries once (ka.tries=1) to reach a server
# nobody runs and powers off (ka.fail=poweroff); reaching stage1 is what is tested.
#  a. iPXE build (`ka netboot build`): a plain UEFI VM gets ipxe.efi from dnsmasq (client-arch 7),
#     then ka/boot.ipxe, and boots stage1, which mounts efivarfs.
#  b. Secure Boot build (`ka netboot build --secure-boot`): a VM with Secure Boot enforced (OVMF
#     with Microsoft's keys) gets shimx64.efi, which loads Debian's signed GRUB (grubx64.efi), which
#     reads grub/grub.cfg and boots the signed kernel: stage1, and the kernel says Secure Boot is on.
#  d. At the same time another such VM whose per-MAC choice is `local` (ka netboot serve
#     --set-boot, grub/ka/mac-*.cfg) leaves GRUB: the firmware goes on to its next boot option;
#     and a BIOS VM (mixed firmware in one qemu_pxe_vms) still gets pxelinux and stage1.
#  c. The same Secure Boot VM given a stage1 kernel stripped of its signature: GRUB (shim_lock)
#     refuses it ("bad shim signature"), stage1 never starts, GRUB falls back to `local`.
# Network: only the namespace made here (10.78.0.0/24, fd00:78::/64). Everything is removed at
# the end. Timings go to test-artifacts/uefi-netboot-timings.txt.
# Measured (2 shared cores, TCG, 2026-12-07): a 44 s, b+d 58 s for the three VMs at once (b reaches
# stage1 and powers off at 53 s), c 26 s from QEMU start; whole test 135 s with both builds cached
# (per ka binary), about 100 s more when it builds them (about 50 s each).
# Env: KA_KEEP=1 keeps the work dir.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"
# shellcheck source=../lib/qemu.bash
. "$(dirname "$0")/../lib/qemu.bash"

bed_require_root
bed_require_ka
qemu_require /usr/sbin/dnsmasq dpkg-deb depmod cpio python3
qemu_fw_require uefi uefi-sb
for f in /usr/lib/PXELINUX/pxelinux.0:pxelinux /usr/lib/ipxe/ipxe.efi:ipxe \
         /usr/lib/shim/shimx64.efi.signed:shim-signed \
         /usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed:grub-efi-amd64-signed; do
  [[ -f ${f%%:*} ]] || { echo "SKIP: ${f%%:*} missing (package ${f#*:}: scripts/setup.sh)"; exit 77; }
done
bed_trap
bed_workdir
W=$BED_WORK
chmod 0755 "$W"  # dnsmasq serves TFTP as nobody
qemu_test_begin

STAGE1="ka stage1 (kernel"
SUBNET=10.78.0
NS=${BED_PREFIX}uefi
SERVE_PID=""

# serve NB: `ka netboot serve NB` (dnsmasq) on br0 in NS, log $W/serve-<basename NB>.log; the VMs of
# MACS get fixed addresses; stage1 tries once a server nobody runs, then powers off
serve() {
  local nb=$1 i hosts=()
  for i in "${!MACS[@]}"; do hosts+=(--host "${MACS[i]},$SUBNET.$(( 11 + i ))"); done
  ip netns exec "$NS" "$KA_BIN" netboot serve "$nb" --interface br0 --dhcp-range "$SUBNET.100,$SUBNET.150" \
    "${hosts[@]}" --ipv6-ra --server "$SUBNET.1:9" --tries 1 --fail poweroff --timeout 10 \
    --append "ka.delay=1" >"$W/serve-${nb##*/}.log" 2>&1 </dev/null &
  SERVE_PID=$!
  BED_PIDS+=("$SERVE_PID")
  sleep 2
  bed_check "ka netboot serve ${nb##*/} runs dnsmasq" kill -0 "$SERVE_PID"
}
serve_stop() {
  [[ -n $SERVE_PID ]] || return 0
  kill "$SERVE_PID" 2>/dev/null
  wait "$SERVE_PID" 2>/dev/null
  SERVE_PID=""
}

# wait_seen SECONDS LOG TEXT...: 0 once LOG shows every TEXT, 1 after SECONDS
wait_seen() {
  local deadline=$(( SECONDS + $1 )) log=$2 t all
  shift 2
  while (( SECONDS < deadline )); do
    all=1
    for t in "$@"; do qemu_seen "$log" "$t" || all=0; done
    (( all )) && return 0
    sleep 1
  done
  return 1
}

# phase_end NAME: stop the VMs of VMS (by PID) and the server, keep the consoles as NAME-vmI.log
# and start the next phase with fresh UEFI variables
phase_end() {
  local i
  for i in "${!VMS[@]}"; do
    kill "${VMS[i]}" 2>/dev/null
    wait "${VMS[i]}" 2>/dev/null
    cp "$W/vm$i.log" "$W/$1-vm$i.log"
  done
  serve_stop
  rm -f "$W"/vars*.fd
}

clean_console() { tr -d '\r' <"$1" | sed 's/\x1b\[[0-9;]*[a-zA-Z]//g'; }

# ---- builds (cached per ka binary) ----
t=$(qemu_now)
qemu_netboot_build "$W/ipxe" || bed_die "ka netboot build failed"
qemu_timing "ka netboot build (cached per ka binary)" "$(qemu_secs_since "$t")"
t=$(qemu_now)
qemu_netboot_build "$W/sb" --secure-boot || bed_die "ka netboot build --secure-boot failed"
qemu_timing "ka netboot build --secure-boot (cached per ka binary)" "$(qemu_secs_since "$t")"
bed_check "the iPXE build says so in build.json" grep -q '"uefi_boot": "ipxe"' "$W/ipxe/build.json"
bed_check "the Secure Boot build says so in build.json" grep -q '"uefi_boot": "shim"' "$W/sb/build.json"
bed_check "the Secure Boot build has shim and Debian's signed network GRUB" \
  bash -c "cmp -s /usr/lib/shim/shimx64.efi.signed '$W/sb/tftp/shimx64.efi' &&
           cmp -s /usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed '$W/sb/tftp/grubx64.efi'"
bed_check "the iPXE build has no shim" test ! -e "$W/ipxe/tftp/shimx64.efi"

qemu_net_up "$NS" "$SUBNET" 3

# ---- a. plain UEFI: ipxe.efi -> ka/boot.ipxe -> stage1 ----
echo "== a. UEFI (OVMF, no Secure Boot): ipxe.efi, then stage1"
MACS=(52:54:00:7e:00:01) KINDS=(virtio) FIRMS=(uefi)
truncate -s 64M "$W/disk0.raw"
serve "$W/ipxe"
bed_check "a: dnsmasq gives UEFI clients ipxe.efi" \
  grep -q '^dhcp-boot=tag:efi64,tag:!ipxe,ipxe.efi$' "$W/ipxe/dnsmasq/dnsmasq.conf"
t=$(qemu_now)
qemu_pxe_vms
# measured: stage1 banner and poweroff 43 s after QEMU starts
wait_seen 240 "$W/vm0.log" "$STAGE1" "powering off now"
qemu_timing "a: plain UEFI VM, QEMU start to stage1 banner and poweroff" "$(qemu_secs_since "$t")"
qemu_wait_exit "${VMS[0]}" 30 || true
phase_end a
bed_check "a: OVMF network-booted ipxe.efi" grep -aq "iPXE" "$W/a-vm0.log"
bed_check "a: iPXE ran ka/boot.ipxe and booted stage1" grep -aqF "$STAGE1" "$W/a-vm0.log"
bed_check "a: stage1 used the boot interface (BOOTIF from iPXE)" grep -aq "pxe-7e-00-01" "$W/a-vm0.log"
bed_check "a: stage1 mounted efivarfs" \
  grep -aq "ka stage1: UEFI, efivarfs mounted on /sys/firmware/efi/efivars" "$W/a-vm0.log"
bed_check "a: no Secure Boot there" bash -c "! grep -aq 'secureboot: Secure boot enabled' '$W/a-vm0.log'"

# ---- b + d. Secure Boot: shim -> signed GRUB -> signed kernel; and a `local` machine ----
echo "== b. Secure Boot (OVMF, Microsoft keys): shim, signed GRUB, signed kernel, stage1;"
echo "== d. at the same time a machine whose per-MAC choice is local, and a BIOS machine"
MACS=(52:54:00:7e:00:02 52:54:00:7e:00:03 52:54:00:7e:00:04) KINDS=(virtio virtio virtio)
FIRMS=(uefi-sb uefi-sb bios)
truncate -s 64M "$W/disk1.raw" "$W/disk2.raw"
serve "$W/sb"
bed_check "b: dnsmasq gives UEFI clients shimx64.efi, BIOS clients pxelinux.0" \
  bash -c "grep -q '^dhcp-boot=tag:efi64,shimx64.efi$' '$W/sb/dnsmasq/dnsmasq.conf' &&
           grep -q '^dhcp-boot=tag:!efi64,pxelinux.0$' '$W/sb/dnsmasq/dnsmasq.conf' &&
           ! grep -q ipxe.efi '$W/sb/dnsmasq/dnsmasq.conf'"
bed_check "b: ka netboot serve wrote the GRUB menu" grep -q "^menuentry 'kamethod'" "$W/sb/tftp/grub/grub.cfg"
bed_check "d: --set-boot local" "$KA_BIN" netboot serve "$W/sb" --interface br0 --set-boot "${MACS[1]}=local"
bed_check "d: the GRUB per-MAC file says local" \
  grep -qx "set default=local" "$W/sb/tftp/grub/ka/mac-52-54-00-7e-00-03.cfg"
t=$(qemu_now)
qemu_pxe_vms
# measured: the three done 58 s after QEMU starts
wait_seen 240 "$W/vm0.log" "$STAGE1" "powering off now" &
w0=$!
wait_seen 240 "$W/vm1.log" "leaving GRUB to the firmware" &
w1=$!
wait_seen 240 "$W/vm2.log" "$STAGE1" "powering off now" &
w2=$!
wait "$w0"; rc0=$?
qemu_timing "b: Secure Boot VM, QEMU start to stage1 banner and poweroff" "$(qemu_secs_since "$t")"
wait "$w1"; rc1=$?
wait "$w2"; rc2=$?
# after `exit` the firmware tries its next boot entry: give it a few seconds to show it
sleep 5
qemu_timing "b+d: the three VMs done" "$(qemu_secs_since "$t")"
phase_end bd
bed_check "b: the VM reached stage1 in time" test "$rc0" = 0
bed_check "b: GRUB came from the network (Debian's signed GRUB)" grep -aq "GNU GRUB" "$W/bd-vm0.log"
bed_check "b: the kernel's EFI stub saw Secure Boot on" grep -aq "EFI stub: UEFI Secure Boot is enabled" "$W/bd-vm0.log"
bed_check "b: the kernel says Secure Boot is enabled" grep -aq "secureboot: Secure boot enabled" "$W/bd-vm0.log"
bed_check "b: the signed kernel booted stage1" grep -aqF "$STAGE1" "$W/bd-vm0.log"
bed_check "b: stage1 used the boot interface (BOOTIF from GRUB's net_default_mac)" \
  grep -aq "pxe-7e-00-02" "$W/bd-vm0.log"
bed_check "b: stage1 mounted efivarfs" \
  grep -aq "ka stage1: UEFI, efivarfs mounted on /sys/firmware/efi/efivars" "$W/bd-vm0.log"
bed_check "d: the local machine left GRUB in time" test "$rc1" = 0
bed_check "d: it never booted stage1" bash -c "! grep -aqF '$STAGE1' '$W/bd-vm1.log'"
bed_check "d: the firmware went on to its next boot option" \
  bash -c "tr -d '\r' <'$W/bd-vm1.log' | sed -n '/leaving GRUB to the firmware/,\$p' |
           grep -aEq 'BdsDxe: (loading|failed to load|starting) Boot'"
bed_check "d: the BIOS machine reached stage1 in time" test "$rc2" = 0
bed_check "d: the BIOS machine got pxelinux.0, then stage1" \
  bash -c "grep -q 'sent $W/sb/tftp/pxelinux.0 to $SUBNET.13' '$W/serve-sb.log' &&
           ! grep -q 'shimx64.efi to $SUBNET.13' '$W/serve-sb.log' && grep -aqF '$STAGE1' '$W/bd-vm2.log'"
bed_check "d: no efivarfs on the BIOS machine" bash -c "! grep -aq 'ka stage1: UEFI' '$W/bd-vm2.log'"

# ---- c. Secure Boot refuses an unsigned stage1 kernel ----
echo "== c. the same Secure Boot machine, the stage1 kernel's signature stripped"
MACS=(52:54:00:7e:00:02) KINDS=(virtio) FIRMS=(uefi-sb)
# data directory 4 (the certificate table) zeroed and the signature bytes cut off
python3 - "$W/sb/tftp/ka/vmlinuz" <<'EOF' || bed_die "could not strip the kernel's signature"
import struct, sys
path = sys.argv[1]
d = bytearray(open(path, 'rb').read())
pe = struct.unpack_from('<I', d, 0x3c)[0]
magic = struct.unpack_from('<H', d, pe + 24)[0]
entry = pe + 24 + (112 if magic == 0x20b else 96) + 4 * 8
off, size = struct.unpack_from('<II', d, entry)
if not off or not size:
    sys.exit('the kernel is not signed')
struct.pack_into('<II', d, entry, 0, 0)
del d[off:off + size]
open(path, 'wb').write(d)
EOF
serve "$W/sb"
t=$(qemu_now)
qemu_pxe_vms
# measured: the refusal and the fallback 26 s after QEMU starts
wait_seen 240 "$W/vm0.log" "bad shim signature" "leaving GRUB to the firmware"
rc=$?
qemu_timing "c: Secure Boot VM with an unsigned kernel, QEMU start to refusal" "$(qemu_secs_since "$t")"
phase_end c
bed_check "c: GRUB refused the unsigned kernel (shim_lock)" test "$rc" = 0
bed_check "c: the refusal is on the console" grep -aq "error: bad shim signature" "$W/c-vm0.log"
bed_check "c: stage1 never started" bash -c "! grep -aqF '$STAGE1' '$W/c-vm0.log'"
bed_check "c: GRUB fell back to local" grep -aq "leaving GRUB to the firmware" "$W/c-vm0.log"

qemu_timing "whole test" "$(qemu_secs_since "$T_ALL")"
qemu_save_timings "ka UEFI and Secure Boot network boot (tests/system/uefi_netboot.sh)" uefi-netboot-timings.txt
if (( BED_FAILS )); then
  for f in "$W"/a-vm0.log "$W"/bd-vm0.log "$W"/bd-vm1.log "$W"/bd-vm2.log "$W"/c-vm0.log "$W"/serve-*.log; do
    echo "---- ${f##*/} (tail)"; clean_console "$f" 2>/dev/null | tail -n 30
    cp "$f" "$ARTIFACTS/uefi-${f##*/}" 2>/dev/null
  done
fi
echo "uefi_netboot: $BED_FAILS failure(s)"
(( BED_FAILS == 0 ))
