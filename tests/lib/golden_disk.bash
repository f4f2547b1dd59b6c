# shellcheck shell=bash source-path=SCRIPTDIR
# tests/lib/golden_disk.bash - the golden disk of the CI system tests: a small MBR disk image with
# ext4, swap and xfs, filled with every kind of file a clone must keep (tests/lib/varied_tree.bash)
# and the identity files it must individualise. Source it from bash (it sources varied_tree.bash and
# disk_image.bash; it does not change shell options). Needs root and: sfdisk, losetup, mkfs.ext4, mkswap, mkfs.xfs,
# python3, attr, acl, libcap2-bin, openssh-client.
#
#   golden_mbr_disk IMG [SIZE_MIB]   (re)creates IMG, a sparse file of SIZE_MIB (default 1024,
#                                    560..1024), and leaves it unmounted and detached; on failure
#                                    IMG is removed (and nothing stays mounted or attached)
#
# Layout (docs/golden-images.md), all ids fixed:
#   disk id 0x6b614349 (MBR)
#   p1  ext4  /     label karoot  uuid 6b610000-0000-4000-8000-0000000000c1  boot flag,
#                   size: what p6 leaves (SIZE_MIB - 35 - p6)
#   p2  extended, to the end of the disk
#   p5  swap        label kaswap  uuid 6b610000-0000-4000-8000-0000000000c5  32 MiB
#   p6  xfs   /srv  label kasrv   uuid 6b610000-0000-4000-8000-0000000000c6  max(320 MiB, half)
# Contents:
#   /      varied_accounts, varied_etc (hostname golden, MAC 52:54:00:6b:61:01), /etc/fstab by
#          UUID, varied_tree under /data, varied_junk (/tmp, /var/tmp, /var/cache: 8 MiB),
#          /srv (the mount point, empty on p1)
#   /srv   varied_tree at its top
# The xfs is mounted with nouuid while it is filled: other copies of this image (same UUID) may be
# mounted at the same time by other tests.

# shellcheck source=varied_tree.bash
. "$(dirname "${BASH_SOURCE[0]}")/varied_tree.bash"
# shellcheck source=disk_image.bash
. "$(dirname "${BASH_SOURCE[0]}")/disk_image.bash"

# shellcheck disable=SC2034  # read by the tests
GD_MBR_ID=0x6b614349
GD_UUID_ROOT=6b610000-0000-4000-8000-0000000000c1
GD_UUID_SWAP=6b610000-0000-4000-8000-0000000000c5
GD_UUID_SRV=6b610000-0000-4000-8000-0000000000c6
GD_SWAP_MIB=32
GD_XFS_MIN_MIB=320

# golden_mbr_disk IMG [SIZE_MIB]: runs in a subshell with its own cleanup trap (mounts and loop
# devices are released on every exit); returns 0 only when every step worked.
golden_mbr_disk() (
  img=$1 size=${2:-1024}
  work=""
  # shellcheck disable=SC2034  # a fresh record in this subshell (for di_release)
  DI_LOOPS=() DI_MOUNTS=()
  _gd_die() { echo "golden_mbr_disk: $*" >&2; exit 1; }
  # shellcheck disable=SC2317  # called by the EXIT trap
  _gd_cleanup() {
    local rc=$? i
    di_release
    if [[ -n $work ]]; then
      for i in "$work"/*; do [[ -d $i ]] && ! mountpoint -q "$i" && rmdir "$i"; done
      rmdir "$work" 2>/dev/null
    fi
    (( rc == 0 )) || [[ -z $img ]] || rm -f "$img"
    exit "$rc"
  }
  trap _gd_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  [[ -n $img ]] || _gd_die "usage: golden_mbr_disk IMG [SIZE_MIB]"
  if ! [[ $size =~ ^[0-9]+$ ]] || (( size < 560 || size > 1024 )); then
    _gd_die "SIZE_MIB must be 560..1024, not '$size'"
  fi
  [[ $(id -u) -eq 0 ]] || _gd_die "needs root"
  local avail=$(( size - 35 ))   # leading MiB, two EBR gaps, swap
  local xfs=$(( avail / 2 > GD_XFS_MIN_MIB ? avail / 2 : GD_XFS_MIN_MIB ))
  local root=$(( avail - xfs ))

  rm -f "$img" || _gd_die "cannot remove $img"
  truncate -s "${size}M" "$img" || _gd_die "cannot create $img"
  di_mbr_table "$img" "$GD_MBR_ID" "$root" "$GD_SWAP_MIB" || _gd_die "sfdisk failed"
  local -A start sectors
  local n s z
  while read -r n s z _; do start[$n]=$s sectors[$n]=$z; done < <(di_partitions "$img")
  for n in 1 5 6; do [[ -n ${start[$n]:-} ]] || _gd_die "sfdisk made no partition $n"; done
  (( sectors[6] >= GD_XFS_MIN_MIB * 2048 )) || _gd_die "p6 is smaller than $GD_XFS_MIN_MIB MiB"

  local L1 L5 L6
  di_attach L1 "$img" "${start[1]}" "${sectors[1]}" || _gd_die "cannot attach p1"
  di_attach L5 "$img" "${start[5]}" "${sectors[5]}" || _gd_die "cannot attach p5"
  di_attach L6 "$img" "${start[6]}" "${sectors[6]}" || _gd_die "cannot attach p6"
  mkfs.ext4 -q -F -U "$GD_UUID_ROOT" -L karoot -E lazy_itable_init=1,lazy_journal_init=1 "$L1" \
    || _gd_die "mkfs.ext4 failed"
  mkswap -U "$GD_UUID_SWAP" -L kaswap "$L5" >/dev/null || _gd_die "mkswap failed"
  mkfs.xfs -q -f -m uuid="$GD_UUID_SRV" -L kasrv "$L6" || _gd_die "mkfs.xfs failed"

  work=$(mktemp -d "${TMPDIR:-/tmp}/ka-golden-disk.XXXXXX") || _gd_die "mktemp failed"
  local R=$work/root S=$work/srv
  di_mount "$L1" "$R" noinit_itable || _gd_die "cannot mount p1"
  di_mount "$L6" "$S" nouuid || _gd_die "cannot mount p6"

  mkdir -p "$R/srv" "$R/etc" "$R/root" || _gd_die "mkdir in /"
  chmod 0700 "$R/root"
  varied_accounts "$R" || _gd_die "varied_accounts failed"
  varied_etc "$R" golden 52:54:00:6b:61:01 || _gd_die "varied_etc failed"
  varied_junk "$R" 8 || _gd_die "varied_junk failed"
  cat >"$R/etc/fstab" <<EOF || _gd_die "cannot write fstab"
# /etc/fstab: ka CI golden disk. Everything by UUID.
UUID=$GD_UUID_ROOT  /     ext4  errors=remount-ro  0  1
UUID=$GD_UUID_SWAP  none  swap  sw                 0  0
UUID=$GD_UUID_SRV  /srv  xfs   defaults           0  2
EOF
  varied_tree "$R/data" || _gd_die "varied_tree /data failed"
  varied_tree "$S" || _gd_die "varied_tree /srv failed"
  sync
  printf 'golden_mbr_disk: %s (%s MiB): p1 ext4 karoot %s MiB used, p5 swap, p6 xfs kasrv %s MiB used\n' \
    "$img" "$size" "$(( $(df -B1 --output=used "$R" | tail -n 1) >> 20 ))" \
    "$(( $(df -B1 --output=used "$S" | tail -n 1) >> 20 ))"
)
