# shellcheck shell=bash
# tests/lib/disk_image.bash - a disk image built partition by partition through offset loop
# devices: the machinery of ka's golden builders (scripts/make-golden.sh, the busybox golden, and
# tests/lib/golden_disk.bash, the CI golden; scripts/make-debian-golden.sh takes its partition
# tables). Source it from bash (it does not change shell options). Needs sfdisk, losetup, python3.
#
#   di_mbr_table IMG DISK_ID P1_MIB SWAP_MIB  writes the MBR every ka golden uses: p1 of P1_MIB
#                                   (Linux, boot flag), p2 extended to the end, in it p5 swap of
#                                   SWAP_MIB and p6 Linux with the rest; DI_N_BOOT=1 DI_N_SWAP=5
#                                   DI_N_ROOT=6
#   di_gpt_table IMG DISK_GUID PARTUUID_PREFIX BOOT_MIB SWAP_MIB [ESP_MIB]  writes the GPT of the ka
#                                   goldens: p1 bios_grub (1 MiB at 1 MiB), then an EFI system
#                                   partition of ESP_MIB, /boot of BOOT_MIB (Legacy BIOS bootable) and
#                                   swap of SWAP_MIB unless they are 0 or not given, then root with
#                                   the rest; partition N's GUID is PARTUUID_PREFIX0N, names
#                                   bios_grub, esp, boot, swap, root; sets DI_N_ESP, DI_N_BOOT,
#                                   DI_N_SWAP (empty when there is none) and DI_N_ROOT
#   di_partitions IMG               "N START SECTORS TYPE" per partition (sfdisk --json)
#   di_attach VAR IMG START SECTORS an offset loop device over one partition, its path in VAR
#   di_mount DEV DIR [OPTIONS]      mkdir -p DIR and mount DEV there
#   di_release                      unmount (newest first; lazily if still busy after a retry) and
#                                   detach everything di_attach and di_mount made; 1 when a mount
#                                   could not be released at all
# di_attach and di_mount record what they made in DI_LOOPS and DI_MOUNTS (for di_release) and
# return 1, with a message on stderr, on failure.

DI_LOOPS=()
DI_MOUNTS=()

# shellcheck disable=SC2034  # DI_N_* are read by the callers
di_mbr_table() {
  sfdisk -q "$1" <<EOF
label: dos
label-id: $2
unit: sectors

start=2048, size=$(( $3 * 2048 )), type=83, bootable
type=5
size=$(( $4 * 2048 )), type=82
type=83
EOF
  DI_N_BOOT=1 DI_N_SWAP=5 DI_N_ROOT=6
}

# shellcheck disable=SC2034  # DI_N_* are read by the callers
di_gpt_table() {
  local prefix=$3 n=2 linux=0FC63DAF-8483-4772-8E79-3D69D8477DE4 lines
  lines=("label: gpt" "label-id: $2" "unit: sectors" "first-lba: 2048" ""
         "start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649, uuid=${prefix}01, name=\"bios_grub\"")
  DI_N_ESP="" DI_N_BOOT="" DI_N_SWAP=""
  if (( ${6:-0} )); then
    lines+=("size=$(( $6 * 2048 )), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=${prefix}0$n, name=\"esp\"")
    DI_N_ESP=$n; n=$(( n + 1 ))
  fi
  if (( $4 )); then
    lines+=("size=$(( $4 * 2048 )), type=$linux, uuid=${prefix}0$n, name=\"boot\", attrs=\"LegacyBIOSBootable\"")
    DI_N_BOOT=$n; n=$(( n + 1 ))
  fi
  if (( $5 )); then
    lines+=("size=$(( $5 * 2048 )), type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, uuid=${prefix}0$n, name=\"swap\"")
    DI_N_SWAP=$n; n=$(( n + 1 ))
  fi
  lines+=("type=$linux, uuid=${prefix}0$n, name=\"root\"")
  DI_N_ROOT=$n
  printf '%s\n' "${lines[@]}" | sfdisk -q "$1"
}

di_partitions() {
  sfdisk --json "$1" | python3 -c '
import json, re, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    print(re.search(r"(\d+)$", p["node"]).group(1), p["start"], p["size"], p["type"])'
}

di_attach() {
  local _di_dev
  _di_dev=$(losetup -f --show -o $(( $3 * 512 )) --sizelimit $(( $4 * 512 )) "$2") \
    || { echo "losetup of $2 at sector $3 failed" >&2; return 1; }
  DI_LOOPS+=("$_di_dev")
  printf -v "$1" '%s' "$_di_dev"
}

di_mount() {
  mkdir -p "$2" || { echo "mkdir $2 failed" >&2; return 1; }
  mount ${3:+-o "$3"} "$1" "$2" || { echo "mount $1 on $2 failed" >&2; return 1; }
  DI_MOUNTS+=("$2")
}

di_release() {
  local i m busy=0
  for (( i = ${#DI_MOUNTS[@]} - 1; i >= 0; i-- )); do
    m=${DI_MOUNTS[i]}
    mountpoint -q "$m" || continue
    umount "$m" 2>/dev/null || { sleep 0.5; umount "$m"; } || umount -l "$m" || busy=1
  done
  for m in "${DI_LOOPS[@]}"; do losetup -d "$m" 2>/dev/null || true; done
  DI_MOUNTS=() DI_LOOPS=()
  return "$busy"
}
