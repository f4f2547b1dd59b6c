# shellcheck shell=bash
# tests/lib/qemu.bash - virtual machines for ka's system tests: QEMU (software emulation here: no
# KVM), disks of every kind, a boot network in a namespace with dnsmasq (`ka netboot serve`), a
# cached `ka netboot build`, serial console parsing, and a timings table. Source it after
# tests/lib/bed.sh (it records its processes in BED_PIDS and namespaces in BED_NSS, which
# bed_trap's cleanup kills and removes; nothing is ever killed by name).
#
#   qemu_require TOOL...            exit 77 (skip) unless QEMU and the tools are installed
#   qemu_test_begin                 ARTIFACTS made, the timings table $W/timings.txt started, T_ALL
#   qemu_save_timings TITLE NAME [FILE...]  $ARTIFACTS/NAME: a title line, the timings, the FILEs
#   qemu_timings_init FILE          start the timings table (qemu_timing appends to it)
#   qemu_timing LABEL SECONDS       one row, also printed
#   qemu_now                        microseconds (for qemu_secs_since)
#   qemu_secs_since START_US        seconds since START, one decimal
#   qemu_disk KIND FILE N [BOOTINDEX]   sets QEMU_DISK=(...): FILE as a disk of KIND: sata (AHCI +
#                                   ide-hd), scsi (virtio-scsi + scsi-hd), nvme, virtio (virtio-blk);
#                                   N makes ids and serials unique within a VM
#   qemu_firmware FIRMWARE VARSFILE sets QEMU_FW=(...): the machine and firmware arguments of bios
#                                   (none: QEMU's default i440fx + SeaBIOS), uefi (q35, OVMF) or uefi-sb
#                                   (q35 with SMM, OVMF with Secure Boot enforced and Microsoft's keys
#                                   enrolled); the UEFI variables (NVRAM) live in VARSFILE, copied from
#                                   OVMF's template only if it does not exist yet (so a VM keeps its
#                                   boot entries across restarts)
#   qemu_fw_require FIRMWARE...     exit 77 (skip) unless the firmware files of each are installed
#   qemu_vm NAME LOG ARGS...        QEMU in the background, console to LOG; PID in VM_PID
#   qemu_wait_exit PID SECONDS      0 once PID ended by itself (its status in WAIT_RC), 1 on timeout
#   qemu_wait_all SECONDS PID...    waits for all; the ones still running after SECONDS are killed
#                                   (returns 1 then)
#   qemu_net_up NS SUBNET N         namespace NS with bridge br0 (SUBNET.1/24, fd00:SUBNET::1/64 for
#                                   router adverts) and tap0..tap(N-1) on it; SUBNET like 10.77.0
#   qemu_netboot_build OUT [OPTION...]  a `ka netboot build [OPTION...]` (e.g. --secure-boot) copied
#                                   into OUT; the build itself is cached in
#                                   /var/cache/ka-test/netboot-HASH[-OPTIONS] (HASH of the ka binary)
#   qemu_netboot_ready OUT [OPTION...]  NB=OUT: qemu_netboot_build OUT [OPTION...], timed; dies if it fails
#   qemu_netboot_serve NB SUBNET SERVER SECRET [OPTION...]   `ka netboot serve` for the VMs of MACS
#   qemu_pxe_serve SOURCE NB SUBNET SECRET [OPTION...]       `ka serve --stage2` to them (SERVE)
#   qemu_pxe_vms                    the network-booting VMs (VMS); VM i runs firmware FIRMS[i]
#                                   (bios when unset; UEFI variables in $W/vars$i.fd)
#   qemu_pxe_wait SECONDS T0 [PID...]   waits for the VMs, noting when each shows each of PHASES
#   qemu_phase_timings              the timings rows of those phases
#   qemu_report LOG KEY             the value of the last "KA-REPORT KEY=VALUE" console line
#   qemu_seen LOG TEXT              the console shows TEXT (fixed string)
#   qemu_console_tail LOG [N]       the last N (40) console lines, readable
# The Debian golden's test hook prints the KA-REPORT lines (docs/golden-images.md).

QEMU_BIN=${QEMU_BIN:-qemu-system-x86_64}
QEMU_CACHE=${KA_TEST_CACHE:-/var/cache/ka-test}
QEMU_TIMINGS=""
declare -A SEEN=()   # when the consoles first showed what the test waits for (qemu_pxe_wait)

qemu_require() {
  local t
  for t in "$QEMU_BIN" "$@"; do
    command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not installed (scripts/setup.sh installs it)"; exit 77; }
  done
}

qemu_now() { echo "${EPOCHREALTIME/[.,]/}"; }
qemu_secs_since() {
  local us=$(( ${EPOCHREALTIME/[.,]/} - $1 ))
  printf '%d.%d' $(( us / 1000000 )) $(( us / 100000 % 10 ))
}
# qemu_test_begin: ARTIFACTS (KA_ARTIFACT_DIR, else test-artifacts beside KA_BIN) made, the timings
# table started in $W/timings.txt, T_ALL = now (for the "whole test" row)
# shellcheck disable=SC2034  # T_ALL is read by the callers
qemu_test_begin() {
  ARTIFACTS=${KA_ARTIFACT_DIR:-$(dirname "$KA_BIN")/test-artifacts}
  mkdir -p "$ARTIFACTS"
  qemu_timings_init "$W/timings.txt"
  T_ALL=$(qemu_now)
}

# qemu_save_timings TITLE NAME [FILE...]: $ARTIFACTS/NAME: "# TITLE, <date>, QEMU TCG (no KVM)",
# then the timings table and the FILEs
qemu_save_timings() {
  local title=$1 name=$2
  shift 2
  { echo "# $title, $(date -u +%FT%TZ), QEMU TCG (no KVM)"; cat "$QEMU_TIMINGS" "$@"; } >"$ARTIFACTS/$name"
}

qemu_timings_init() { QEMU_TIMINGS=$1; : >"$QEMU_TIMINGS"; }
qemu_timing() {
  if [[ -n $QEMU_TIMINGS ]]; then printf '%-62s %8s s\n' "$1" "$2" | tee -a "$QEMU_TIMINGS"
  else printf '%-62s %8s s\n' "$1" "$2"; fi
}

# OVMF (Debian package ovmf): the 4 MiB flash images. CODE is read-only and shared; VARS is
# copied per VM. .ms: Secure Boot with Microsoft's keys (and so shim, signed by Microsoft's UEFI CA).
QEMU_OVMF_DIR=${QEMU_OVMF_DIR:-/usr/share/OVMF}

qemu_fw_files() {
  case $1 in
    bios) QEMU_FW_FILES=() ;;
    uefi) QEMU_FW_FILES=("$QEMU_OVMF_DIR/OVMF_CODE_4M.fd" "$QEMU_OVMF_DIR/OVMF_VARS_4M.fd") ;;
    uefi-sb) QEMU_FW_FILES=("$QEMU_OVMF_DIR/OVMF_CODE_4M.ms.fd" "$QEMU_OVMF_DIR/OVMF_VARS_4M.ms.fd") ;;
    *) echo "qemu_firmware: unknown firmware '$1' (bios, uefi, uefi-sb)" >&2; return 1 ;;
  esac
}

qemu_fw_require() {
  local fw f
  for fw in "$@"; do
    qemu_fw_files "$fw" || exit 1
    for f in "${QEMU_FW_FILES[@]}"; do
      [[ -f $f ]] || { echo "SKIP: $f missing (firmware $fw: scripts/setup.sh installs ovmf)"; exit 77; }
    done
  done
}

qemu_firmware() {
  local fw=$1 vars=$2
  qemu_fw_files "$fw" || return 1
  QEMU_FW=()
  [[ $fw == bios ]] && return 0
  if [[ ! -f $vars ]]; then cp "${QEMU_FW_FILES[1]}" "$vars" || return 1; fi
  if [[ $fw == uefi-sb ]]; then
    # Secure Boot needs SMM, and the flash may be written only from SMM
    # shellcheck disable=SC2054  # commas inside QEMU option values
    QEMU_FW=(-machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on)
  else
    QEMU_FW=(-machine q35)
  fi
  QEMU_FW+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=${QEMU_FW_FILES[0]}"
            -drive "if=pflash,format=raw,unit=1,file=$vars")
}

qemu_disk() {
  local kind=$1 file=$2 n=$3 boot=${4:-}
  local bi=${boot:+,bootindex=$boot}
  QEMU_DISK=(-drive "file=$file,format=raw,if=none,id=disk$n,cache=unsafe")
  case $kind in
    sata)   QEMU_DISK+=(-device "ahci,id=ahci$n" -device "ide-hd,drive=disk$n,bus=ahci$n.0$bi") ;;
    scsi)   QEMU_DISK+=(-device "virtio-scsi-pci,id=scsi$n" -device "scsi-hd,drive=disk$n,bus=scsi$n.0$bi") ;;
    nvme)   QEMU_DISK+=(-device "nvme,drive=disk$n,serial=ka-nvme-$n$bi") ;;
    virtio) QEMU_DISK+=(-device "virtio-blk-pci,drive=disk$n,serial=ka-virtio-$n$bi") ;;
    *) echo "qemu_disk: unknown kind '$kind' (sata, scsi, nvme, virtio)" >&2; return 1 ;;
  esac
}

qemu_vm() {
  local name=$1 log=$2; shift 2
  "$@" >"$log" 2>"$log.err" </dev/null &
  VM_PID=$!
  BED_PIDS+=("$VM_PID")
  echo "  $name: QEMU pid $VM_PID, console $log"
}

# qemu_netboot_serve NB SUBNET SERVER SECRET [OPTION...]: `ka netboot serve NB` (dnsmasq: DHCP, TFTP,
# pxelinux) in netns NS on br0, in the background (log $W/netboot-serve.log): the VM of MACS[I]
# gets SUBNET.(11+I), stage1 looks for the ka server at SERVER (ka.delay=5), router adverts on;
# OPTIONs go to ka netboot serve. Checks 2 s later that it still runs.
qemu_netboot_serve() {
  local nb=$1 subnet=$2 server=$3 secret=$4 i hosts=() pid
  shift 4
  for i in "${!MACS[@]}"; do hosts+=(--host "${MACS[i]},$subnet.$(( 11 + i ))"); done
  ip netns exec "$NS" "$KA_BIN" netboot serve "$nb" --interface br0 --dhcp-range "$subnet.100,$subnet.150" \
    "${hosts[@]}" --ipv6-ra --server "$server" --secret-file "$secret" "$@" --append "ka.delay=5" \
    >"$W/netboot-serve.log" 2>&1 </dev/null &
  pid=$!
  BED_PIDS+=("$pid")
  sleep 2
  bed_check "ka netboot serve runs dnsmasq" kill -0 "$pid"
}

# qemu_pxe_serve SOURCE NB SUBNET SECRET [OPTION...]: `ka serve --source SOURCE` in netns NS, bound to
# SUBNET.1, to as many nodes as MACS, with NB's stage2 and PXE root (it switches the nodes' PXE
# boot), in the background: log $W/serve.log, report $W/report.json, PID in SERVE; OPTIONs go to
# ka serve
qemu_pxe_serve() {
  local source=$1 nb=$2 subnet=$3 secret=$4
  shift 4
  ip netns exec "$NS" "$KA_BIN" serve --source "$source" -n "${#MACS[@]}" --stage2 "$nb/stage2.ka" \
    --pxe-root "$nb/tftp" --bind "$subnet.1" --secret-file "$secret" --session-dir "$W/session" \
    --report "$W/report.json" "$@" >"$W/serve.log" 2>&1 </dev/null &
  SERVE=$!
  BED_PIDS+=("$SERVE")
}

# qemu_pxe_vms: one VM per MACS[i], network boot first (its disk, $W/diskI.raw of kind KINDS[i],
# boots second), 1.5 GiB, on tapI inside netns NS, firmware FIRMS[i] (qemu_firmware; bios when
# FIRMS is unset or shorter; UEFI variables in $W/varsI.fd, kept across restarts); their PIDs in VMS.
# BOOTORDER[i]=firmware: no bootindex at all, the firmware's own order decides (OVMF rewrites its
# NVRAM BootOrder from QEMU's bootindex at every boot otherwise; without it, a blank disk is tried
# and skipped, then the network, and an entry a clone writes first in BootOrder is honoured).
# UEFI VMs network-boot with OVMF's own virtio-net driver (romfile=): QEMU's iPXE option ROM is
# not signed, so Secure Boot firmware would refuse it anyway.
qemu_pxe_vms() {
  local i fw rom net_bi disk_bi
  VMS=()
  for i in "${!MACS[@]}"; do
    fw=${FIRMS[i]:-bios}
    qemu_firmware "$fw" "$W/vars$i.fd" || bed_die "qemu_firmware $fw failed"
    rom=""
    [[ $fw == bios ]] || rom=",romfile="
    net_bi=",bootindex=1" disk_bi=2
    if [[ ${BOOTORDER[i]:-qemu} == firmware ]]; then net_bi="" disk_bi=""; fi
    qemu_disk "${KINDS[i]}" "$W/disk$i.raw" 0 "$disk_bi"
    qemu_vm "vm$i" "$W/vm$i.log" ip netns exec "$NS" "$QEMU_BIN" "${QEMU_FW[@]}" -m 1536 -nographic -monitor none \
      "${QEMU_DISK[@]}" \
      -netdev "tap,id=n0,ifname=tap$i,script=no,downscript=no" \
      -device "virtio-net-pci,netdev=n0,mac=${MACS[i]}$net_bi$rom"
    VMS+=("$VM_PID")
  done
}

# qemu_seen_at KEY LOG TEXT T0: SEEN[KEY] = seconds since T0, the first time LOG shows TEXT
qemu_seen_at() {
  [[ -n ${SEEN[$1]:-} ]] || ! qemu_seen "$2" "$3" || SEEN[$1]=$(qemu_secs_since "$4")
}

# qemu_phases_seen T0: for every VM I of MACS (console $W/vmI.log) and every "NAME|TEXT" of PHASES,
# SEEN[I,NAME] = seconds since T0, the first time that console shows TEXT
qemu_phases_seen() {
  local i p
  for i in "${!MACS[@]}"; do
    for p in "${PHASES[@]}"; do qemu_seen_at "$i,${p%%|*}" "$W/vm$i.log" "${p#*|}" "$1"; done
  done
}

# qemu_pxe_wait SECONDS T0 [PID...]: once a second, until the VMs of VMS and the PIDs have all
# ended or SECONDS have passed: qemu_phases_seen T0, the test's function QEMU_WATCH if it names one
# (more SEEN), and once ka serve (SERVE, if the test started it) has ended, its exit status in
# SERVE_RC and when in SEEN[serve]. ALIVE=0 when everything ended by itself, else 1.
# shellcheck disable=SC2034  # SERVE_RC and ALIVE are read by the callers
qemu_pxe_wait() {
  local deadline=$(( SECONDS + $1 )) t0=$2 p
  shift 2
  SERVE_RC="" ALIVE=1
  while (( SECONDS < deadline )); do
    qemu_phases_seen "$t0"
    [[ -n ${QEMU_WATCH:-} ]] && "$QEMU_WATCH"
    if [[ -n ${SERVE:-} && -z $SERVE_RC ]] && ! kill -0 "$SERVE" 2>/dev/null; then
      SERVE_RC=0; wait "$SERVE" || SERVE_RC=$?
      SEEN[serve]=$(qemu_secs_since "$t0")
    fi
    ALIVE=0
    for p in "${VMS[@]}" "$@"; do kill -0 "$p" 2>/dev/null && ALIVE=1; done
    (( ALIVE )) || break
    sleep 1
  done
  qemu_phases_seen "$t0"
}

# qemu_phase_timings: a timings row per VM I of MACS and phase of PHASES, "vmI (KINDS[I]): NAME",
# and, if the test started ka serve (SERVE), when it ended; all in seconds since QEMU started
qemu_phase_timings() {
  local i p
  for i in "${!MACS[@]}"; do
    for p in "${PHASES[@]}"; do
      qemu_timing "vm$i${KINDS[i]:+ (${KINDS[i]})}: ${p%%|*} (since QEMU start)" "${SEEN[$i,${p%%|*}]:--}"
    done
  done
  [[ -z ${SERVE:-} ]] || qemu_timing "ka serve done: stage2 + clone of both nodes (since QEMU start)" "${SEEN[serve]:--}"
}

# shellcheck disable=SC2034  # WAIT_RC is read by the callers
qemu_wait_exit() {
  local pid=$1 secs=$2 i
  for (( i = 0; i < secs * 2; i++ )); do
    if ! kill -0 "$pid" 2>/dev/null; then WAIT_RC=0; wait "$pid" || WAIT_RC=$?; return 0; fi
    sleep 0.5
  done
  return 1
}

qemu_wait_all() {
  local secs=$1; shift
  local deadline=$(( SECONDS + secs )) p alive rc=0
  while (( SECONDS < deadline )); do
    alive=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    (( alive )) || break
    sleep 1
  done
  for p in "$@"; do
    if kill -0 "$p" 2>/dev/null; then kill "$p" 2>/dev/null; rc=1; fi
    wait "$p" 2>/dev/null
  done
  return "$rc"
}

qemu_net_up() {
  local ns=$1 subnet=$2 n=$3 i mid
  mid=${subnet#*.}; mid=${mid%%.*}
  ip netns add "$ns" || bed_die "ip netns add $ns failed"
  BED_NSS+=("$ns")
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" ip link add br0 type bridge stp_state 0 forward_delay 0
  ip netns exec "$ns" ip addr add "$subnet.1/24" dev br0
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.br0.disable_ipv6=0 2>/dev/null || true
  ip netns exec "$ns" ip -6 addr add "fd00:$mid::1/64" dev br0 nodad 2>/dev/null || true
  ip netns exec "$ns" ip link set br0 up
  for (( i = 0; i < n; i++ )); do
    ip netns exec "$ns" ip tuntap add dev "tap$i" mode tap || bed_die "tap$i in $ns failed"
    ip netns exec "$ns" ip link set "tap$i" master br0
    ip netns exec "$ns" ip link set "tap$i" up
  done
}

qemu_netboot_build() {
  local out=$1 hash dir d opts
  shift
  hash=$(sha256sum <"$KA_BIN" | cut -c1-16)
  opts=$(printf '%s' "$*" | tr -c 'a-zA-Z0-9' '-' | sed 's/^-*//')   # --secure-boot: netboot-HASH-secure-boot
  dir=$QEMU_CACHE/netboot-$hash${opts:+-$opts}
  mkdir -p "$QEMU_CACHE"
  (
    flock 8
    if [[ ! -s $dir/stage2.ka ]]; then
      for d in "$QEMU_CACHE"/netboot-*; do   # other ka binaries' builds
        [[ $d == "$QEMU_CACHE/netboot-$hash" || $d == "$QEMU_CACHE/netboot-$hash-"* || $d == */netboot-build.log ]] \
          || rm -rf "$d"
      done
      "$KA_BIN" netboot build -o "$dir.partial" "$@" >"$QEMU_CACHE/netboot-build.log" 2>&1 \
        || { cat "$QEMU_CACHE/netboot-build.log" >&2; rm -rf "$dir.partial"; exit 1; }
      mv "$dir.partial" "$dir"
    fi
  ) 8>"$QEMU_CACHE/.netboot.lock" || return 1
  cp -a "$dir" "$out"
}

# qemu_netboot_ready OUT [OPTION...]: NB = OUT, a `ka netboot build [OPTION...]` (qemu_netboot_build: cached) and its timings
# row; the test dies if the build fails
# shellcheck disable=SC2034  # NB is read by the callers
qemu_netboot_ready() {
  local t
  t=$(qemu_now)
  NB=$1
  qemu_netboot_build "$@" || bed_die "ka netboot build ${*:2} failed"
  qemu_timing "ka netboot build (cached per ka binary)" "$(qemu_secs_since "$t")"
}

qemu_report() {
  grep -ao "KA-REPORT $2=.*" "$1" 2>/dev/null | tail -n 1 | tr -d '\r' | sed "s/^KA-REPORT $2=//"
}
qemu_seen() { grep -aqF "$2" "$1" 2>/dev/null; }
qemu_console_tail() { tail -n "${2:-40}" "$1" 2>/dev/null | tr -d '\r' | sed 's/\x1b\[[0-9;]*[a-zA-Z]//g'; }
