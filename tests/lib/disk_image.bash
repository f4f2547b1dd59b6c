# shellcheck shell=bash
# tests/lib/disk_image.bash - a disk image built partition by partition through offset loop
# devices: the machinery of ka's golden builders (scripts/make-golden.sh, the busybox golden, and
# tests/lib/golden_disk.bash, the CI golden). Source it from bash (it does not change shell
# options). Needs sfdisk, losetup, python3.
#
#   di_mbr_table IMG DISK_ID P1_MIB SWAP_MIB  writes the MBR every ka golden uses: p1 of P1_MIB
#                                   (Linux, boot flag), p2 extended to the end, in it p5 swap of
#                                   SWAP_MIB and p6 Linux with the rest
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
