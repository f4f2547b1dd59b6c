#!/usr/bin/env bash
# System test: the golden images are what docs/golden-images.md says they are.
#  1. scripts/make-golden.sh (MBR, small bulk): exit 0; a second run without --force is refused
#     and leaves the image alone; sfdisk --json table, blkid -p at each partition's offset (type,
#     UUID, label); mounted read-only: busybox and its relative applet links, fstab by the UUIDs
#     blkid sees, accounts, identity files and their modes, junk, homes, bulk, /boot; rcS run in
#     a chroot (private mount and UTS namespaces) prints the boot marker
#  2. scripts/make-golden.sh --label gpt: table (bios_grub, names, PARTUUIDs, attrs), filesystems
#  3. golden_mbr_disk (tests/lib/golden_disk.bash): table, filesystems, fstab, identity files,
#     junk, and varied_tree under /data (ext4) and at the top of /srv (xfs): file types, device
#     numbers, modes, owners, hardlinks, symlinks, names, long path, sparse file, xattrs, ACLs,
#     capability, mtimes
# Only loop devices this test attaches are used (offset loops over images in its work dir, read
# only); all are detached at the end (and checked). Does not need the ka binary.
# Env: KA_KEEP=1 (keep the work dir).
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2016  # single-quoted checks are eval'd by bed_check
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"
# shellcheck source=layout_lib.bash
. "$(dirname "$0")/layout_lib.bash"
# shellcheck source=../lib/golden_disk.bash
. "$(dirname "$0")/../lib/golden_disk.bash"

bed_workdir
W=$BED_WORK
lt_require
lt_require_tools mkfs.xfs getfattr setfattr getfacl setfacl getcap setcap ssh-keygen unshare chroot
[[ -x /bin/busybox ]] || { echo "SKIP: busybox-static not installed"; exit 77; }
lt_trap
MAKE_GOLDEN=$KA_ROOT/scripts/make-golden.sh

# gi_mount IMG PART_NUM DIR: mount that partition of IMG read-only through an offset loop
gi_mount() {
  local img=$1 num=$2 dir=$3 s z dev opts=ro
  read -r s z < <(di_partitions "$img" | awk -v n="$num" '$1 == n { print $2, $3 }')
  [[ -n $s ]] || { echo "    $img has no partition $num"; return 1; }
  dev=$(losetup -r -f --show -o $(( s * 512 )) --sizelimit $(( z * 512 )) "$img") || return 1
  LT_LOOPS+=("$dev")
  case $(blkid -p -o value -s TYPE "$dev") in
    xfs) opts=ro,nouuid,norecovery ;;
    ext4) opts=ro,noload ;;
  esac
  mkdir -p "$dir"
  mount -o "$opts" "$dev" "$dir" || return 1
  LT_MOUNTS+=("$dir")
}
gi_umount_all() { lt_release_all; }
# gi_table_is IMG WANT_FILE: lt_table_full IMG (sfdisk --json: label, id, partitions with starts,
# sizes, types, flags, attrs, names, PARTUUIDs) equals WANT_FILE
gi_table_is() { lt_table_full "$1" >"$BED_WORK/table.got"; lt_same_text "$2" "$BED_WORK/table.got"; }

# gi_fs IMG PART_NUM: "TYPE UUID LABEL" that blkid -p finds at that partition's offset
gi_fs() {
  local s
  s=$(di_partitions "$1" | awk -v n="$2" '$1 == n { print $2 }')
  [[ -n $s ]] || { echo "no-partition-$2"; return; }
  echo "$(blkid -p -O $(( s * 512 )) -o value -s TYPE "$1") $(blkid -p -O $(( s * 512 )) -o value -s UUID "$1") $(blkid -p -O $(( s * 512 )) -o value -s LABEL "$1")"
}
gi_fs_is() {  # gi_fs_is IMG NUM "TYPE UUID LABEL"
  local got
  got=$(gi_fs "$1" "$2")
  [[ $got == "$3" ]] || { echo "    p$2: got '$got', want '$3'"; return 1; }
}
# gi_check_layout IMG WANT_FILE WHAT [N "DESCRIPTION" "TYPE UUID LABEL"]...: bed_checks that IMG's
# partition table is the one on stdin (lt_table_full's lines, kept in WANT_FILE) and that
# partition N holds the filesystem "TYPE UUID LABEL" (gi_fs_is), for each N
gi_check_layout() {
  local img=$1 want=$2
  cat >"$want"
  bed_check "sfdisk --json: $3" gi_table_is "$img" "$want"
  shift 3
  while (( $# >= 3 )); do
    bed_check "p$1: $2" gi_fs_is "$img" "$1" "$3"
    shift 3
  done
}

gi_eq() { [[ $1 == "$2" ]] || { echo "    got '$1', want '$2'"; return 1; }; }
gi_stat() { stat -c "$1" -- "$2" 2>&1; }     # gi_stat FORMAT PATH
gi_is() { gi_eq "$(gi_stat "$1" "$2")" "$3"; }  # gi_is FORMAT PATH WANT

# gi_fstab_uuids ETC_FSTAB UUID...: fstab mounts every UUID, and nothing by device name
gi_fstab_uuids() {
  local f=$1 u; shift
  for u in "$@"; do grep -q "^UUID=${u}[[:space:]]" "$f" || { echo "    $f: no UUID=$u"; return 1; }; done
  ! grep -q '^/dev/' "$f" || { echo "    $f names a device"; return 1; }
}

# gi_identity ROOT: the identity files of varied_etc (hostname golden)
gi_identity() {
  local r=$1 ok=0 t
  gi_eq "$(cat "$r/etc/hostname")" golden || ok=1
  grep -q $'^127.0.1.1\tgolden$' "$r/etc/hosts" || { echo "    hosts: no 127.0.1.1 golden"; ok=1; }
  [[ $(cat "$r/etc/machine-id") =~ ^[0-9a-f]{32}$ ]] || { echo "    machine-id not 32 hex"; ok=1; }
  for t in rsa ecdsa ed25519; do
    gi_is '%a %u' "$r/etc/ssh/ssh_host_${t}_key" '600 0' || ok=1
    gi_is '%a %u' "$r/etc/ssh/ssh_host_${t}_key.pub" '644 0' || ok=1
    ssh-keygen -l -f "$r/etc/ssh/ssh_host_${t}_key.pub" >/dev/null || { echo "    $t key unreadable"; ok=1; }
  done
  grep -q 'ATTR{address}=="52:54:00:6b:61:01"' "$r/etc/udev/rules.d/70-persistent-net.rules" \
    || { echo "    udev rule without the MAC"; ok=1; }
  grep -q 'fixed-address 10.231.97.1;' "$r/var/lib/dhcp/dhclient.eth0.leases" || { echo "    lease"; ok=1; }
  gi_is '%a' "$r/etc/NetworkManager/system-connections/wired.nmconnection" 600 || ok=1
  grep -q '^mac-address=52:54:00:6B:61:01$' "$r/etc/NetworkManager/system-connections/wired.nmconnection" \
    || { echo "    nmconnection without mac-address"; ok=1; }
  gi_is '%a %u %g' "$r/etc/shadow" '640 0 42' || ok=1
  grep -q '^ada:x:1000:1000:' "$r/etc/passwd" || { echo "    no ada in passwd"; ok=1; }
  return $ok
}

# gi_junk ROOT: /tmp (1777) and /var/cache hold junk
gi_junk() {
  gi_is '%a' "$1/tmp" 1777 || return 1
  [[ -f $1/tmp/junk-1.txt && -f $1/tmp/junk-2.bin ]] || { echo "    /tmp without junk"; return 1; }
  (( $(du -sb "$1/var/cache" | cut -f1) >= 8 << 20 )) || { echo "    /var/cache < 8 MiB"; return 1; }
}

# gi_tree DIR: what varied_tree made in DIR
gi_tree() {
  local d=$1 ok=0 want_t n blocks
  gi_is '%F %t:%T %a' "$d/special/char-1-3" 'character special file 1:3 666' || ok=1
  gi_is '%F %t:%T %a' "$d/special/block-7-200" 'block special file 7:c8 660' || ok=1
  gi_is '%F' "$d/special/fifo" 'fifo' || ok=1
  gi_is '%a %u:%g' "$d/dirs/private" '700 0:0' || ok=1
  gi_is '%a' "$d/dirs/public" 755 || ok=1
  gi_is '%a %u:%g' "$d/dirs/shared" '2775 1000:1000' || ok=1
  gi_is '%a' "$d/dirs/sticky" 1777 || ok=1
  gi_is '%a %u:%g' "$d/files/setuid-root" '4755 0:0' || ok=1
  gi_is '%a %u:%g' "$d/files/setgid-ada" '2755 0:1000' || ok=1
  gi_is '%u:%g' "$d/files/owner-ada" '1000:1000' || ok=1
  gi_is '%u:%g' "$d/files/owner-unknown" '1234:4321' || ok=1
  gi_is '%F %s' "$d/files/empty" 'regular empty file 0' || ok=1
  gi_is '%s' "$d/files/large.bin" $(( VARIED_LARGE_MIB << 20 )) || ok=1
  gi_is '%s' "$d/files/sparse.img" $(( 1 << 30 )) || ok=1
  blocks=$(gi_stat %b "$d/files/sparse.img")
  (( blocks * 512 >= 4 << 20 && blocks * 512 <= 8 << 20 )) \
    || { echo "    sparse.img allocates $(( blocks * 512 )) bytes, want 4..8 MiB"; ok=1; }
  cmp -s <(dd if="$d/files/sparse.img" bs=1M skip=300 count=2 status=none) \
    <(varied_random ka-sparse-300 $(( 2 << 20 ))) || { echo "    sparse.img data at 300 MiB"; ok=1; }
  gi_is '%h %i' "$d/links/one" "3 $(gi_stat %i "$d/other/three")" || ok=1
  gi_is '%i' "$d/links/two" "$(gi_stat %i "$d/links/one")" || ok=1
  gi_eq "$(readlink "$d/symlinks/relative")" ../files/plain.txt || ok=1
  gi_eq "$(readlink "$d/symlinks/absolute")" /etc/hostname || ok=1
  gi_eq "$(readlink "$d/symlinks/dangling")" ../no/such/target || ok=1
  [[ -L $d/symlinks/dangling && ! -e $d/symlinks/dangling ]] || { echo "    dangling link resolves"; ok=1; }
  [[ -L $d/symlinks/to-dir && -d $d/symlinks/to-dir/ ]] || { echo "    to-dir is not a link to a dir"; ok=1; }
  for n in "with space" "café-é" "日本語" "rocket-🚀" "new"$'\n'"line" "-leading-dash"; do
    [[ -f $d/names/$n ]] || { printf '    missing name %q\n' "$n"; ok=1; }
  done
  n="$VARIED_LONG_DIR/file.txt"
  if (( ${#n} <= 200 )) || [[ ! -f $d/$n ]]; then echo "    long path missing or short (${#n} bytes)"; ok=1; fi
  gi_eq "$(getfattr --absolute-names --only-values -n user.ka "$d/files/xattrs" 2>&1)" 1 || ok=1
  gi_eq "$(getfattr --absolute-names --only-values -n trusted.ka "$d/files/xattrs" 2>&1)" golden || ok=1
  getfacl -n -p "$d/dirs/shared" 2>/dev/null | grep -qx 'default:user:1000:rwx' \
    || { echo "    dirs/shared: no default ACL"; ok=1; }
  getfacl -n -p "$d/files/acl" 2>/dev/null | grep -qx 'user:1000:rw-' \
    || { echo "    files/acl: no access ACL"; ok=1; }
  getfacl -n -p "$d/dirs/shared/inherits-acl.txt" 2>/dev/null | grep -q '^user:1000:rwx' \
    || { echo "    inherits-acl.txt did not inherit"; ok=1; }
  gi_eq "$(getcap "$d/files/ping-cap" | awk '{ print $2 }')" cap_net_raw=ep || ok=1
  want_t=$(date -d "$VARIED_TIME" +%s)
  gi_eq "$(find "$d" -printf '%T@\n' | cut -d. -f1 | sort -u | tr '\n' ' ')" "$want_t " || ok=1
  return $ok
}

# ---- 1. make-golden.sh, MBR ------------------------------------------------------------------
echo "== 1. make-golden.sh (mbr, --bulk 16)"
G=$W/golden.img
t0=$(date +%s)
bed_check "make-golden.sh exits 0" lt_run "$W/mg.out" "$MAKE_GOLDEN" "$G" --bulk 16
echo "    took $(( $(date +%s) - t0 ))s"
sed -n '/^== filesystems/,$p' "$W/mg.out" | sed 's/^/    /'
bed_check "it printed the layout (sfdisk -d)" grep -q '^label-id: 0x6b61676f' "$W/mg.out"
before=$(stat -c '%i %Y %s' "$G" 2>&1)
rc=0; "$MAKE_GOLDEN" "$G" --bulk 16 >"$W/mg2.out" 2>&1 || rc=$?
bed_check "a second run without --force is refused" \
  test "$rc" -ne 0 -a -n "$(grep 'refusing to overwrite' "$W/mg2.out")"
bed_check "  ... and leaves the image alone" test "$before" = "$(stat -c '%i %Y %s' "$G")"
gi_check_layout "$G" "$W/golden.want" "the documented MBR table" \
  1 "ext4, boot" "ext4 6b610000-0000-4000-8000-000000000001 boot" \
  5 "swap" "swap 6b610000-0000-4000-8000-000000000005 swap" \
  6 "ext4, root" "ext4 6b610000-0000-4000-8000-000000000006 root" <<'EOF'
label dos id 0x6b61676f sectorsize 512
1 2048 131072 83 boot - - -
2 133120 1964032 5 - - - -
5 135168 131072 82 - - - -
6 268288 1828864 83 - - - -
EOF
bed_check "image file is sparse, 1 GiB" test "$(stat -c %s "$G")" -eq $(( 1 << 30 )) -a \
  "$(( $(stat -c %b "$G") * 512 ))" -lt $(( 256 << 20 ))
R=$W/g-root B=$W/g-boot
bed_check "mount p6 and p1 read-only" eval 'gi_mount "$G" 6 "$R" && gi_mount "$G" 1 "$B"'
bed_check "/bin/busybox: static executable" \
  eval '[[ -f $R/bin/busybox && -x $R/bin/busybox ]] && ! ldd "$R/bin/busybox" 2>&1 | grep -q "=>"'
bed_check "/sbin/init -> ../bin/busybox" gi_eq "$(readlink "$R/sbin/init")" ../bin/busybox
bed_check "/usr/bin/awk -> ../../bin/busybox, /bin/sh -> busybox" \
  gi_eq "$(readlink "$R/usr/bin/awk") $(readlink "$R/bin/sh")" "../../bin/busybox busybox"
bed_check "more than 200 applet links, none absolute" eval \
  '(( $(find "$R" -xdev -type l -lname "*busybox" | wc -l) > 200 )) && [[ -z $(find "$R" -xdev -type l -lname "/bin/busybox") ]]'
bed_check "inittab runs rcS; rcS prints the marker" eval \
  'grep -q "^::sysinit:/etc/init.d/rcS$" "$R/etc/inittab" && grep -q "KA-CLONE-BOOTED hostname=" "$R/etc/init.d/rcS"'
bed_check "fstab: /, /boot and swap by the UUIDs blkid sees" gi_fstab_uuids "$R/etc/fstab" \
  "$(gi_fs "$G" 6 | cut -d' ' -f2)" "$(gi_fs "$G" 1 | cut -d' ' -f2)" "$(gi_fs "$G" 5 | cut -d' ' -f2)"
bed_check "identity files (hostname, hosts, machine-id, ssh keys, udev, lease, NM), accounts" \
  gi_identity "$R"
bed_check "machine-id is the documented one" gi_eq "$(cat "$R/etc/machine-id")" 258b7b64de9c471c84c751969d88e80b
bed_check "junk in /tmp (1777) and /var/cache" gi_junk "$R"
bed_check "/root 0700, /home/ada 0700 1000:1000 with files" eval \
  'gi_is "%a" "$R/root" 700 && gi_is "%a %u:%g" "$R/home/ada" "700 1000:1000" && [[ -s $R/home/ada/Documents/notes.md ]]'
bed_check "/usr/share/bulk holds 16 MiB" test "$(du -sb "$R/usr/share/bulk" | cut -f1)" -ge $(( 16 << 20 ))
bed_check "/boot: vmlinuz-ka and initrd.img-ka (4 MiB each), empty grub/" eval \
  'gi_is %s "$B/vmlinuz-ka" 4194304 && gi_is %s "$B/initrd.img-ka" 4194304 && [[ -d $B/grub && -z $(ls -A "$B/grub") ]]'
bed_check "every mtime is 2024-01-01 (GOLDEN_EPOCH)" \
  gi_eq "$(find "$R" "$B" -printf '%T@\n' | cut -d. -f1 | sort -u | tr '\n' ' ')" "1704067200 "
timeout 20 unshare -m -u env -i KA_RCS_CHROOT=1 "$(command -v chroot)" "$R" /etc/init.d/rcS >"$W/rcs.out" 2>&1
bed_check "rcS in a chroot prints 'KA-CLONE-BOOTED hostname=golden'" \
  grep -qx 'KA-CLONE-BOOTED hostname=golden' "$W/rcs.out"
sed 's/^/    rcS: /' "$W/rcs.out"
gi_umount_all

# ---- 2. make-golden.sh, GPT ------------------------------------------------------------------
echo "== 2. make-golden.sh --label gpt (--bulk 8, --size 600)"
GG=$W/golden-gpt.img
bed_check "make-golden.sh --label gpt exits 0" lt_run "$W/mgg.out" "$MAKE_GOLDEN" "$GG" --label gpt --bulk 8 --size 600
gi_check_layout "$GG" "$W/gpt.want" "the documented GPT table" \
  1 "bios_grub, no filesystem" "  " \
  2 "ext4, boot" "ext4 6b610000-0000-4000-8000-000000000001 boot" \
  3 "swap" "swap 6b610000-0000-4000-8000-000000000005 swap" \
  4 "ext4, root" "ext4 6b610000-0000-4000-8000-000000000006 root" <<'EOF'
label gpt id 6B610000-0000-4000-8000-000000000000 sectorsize 512
1 2048 2048 21686148-6449-6E6F-744E-656564454649 - - bios_grub 6B610000-0000-4000-8000-000000000101
2 4096 131072 0FC63DAF-8483-4772-8E79-3D69D8477DE4 - LegacyBIOSBootable boot 6B610000-0000-4000-8000-000000000102
3 135168 131072 0657FD6D-A4AB-43C4-84E5-0933C84B4F4F - - swap 6B610000-0000-4000-8000-000000000103
4 266240 960512 0FC63DAF-8483-4772-8E79-3D69D8477DE4 - - root 6B610000-0000-4000-8000-000000000104
EOF
bed_check "mount p4 read-only" gi_mount "$GG" 4 "$W/gg-root"
bed_check "fstab by UUID, identity files" eval 'gi_fstab_uuids "$W/gg-root/etc/fstab" \
  6b610000-0000-4000-8000-000000000006 6b610000-0000-4000-8000-000000000001 \
  6b610000-0000-4000-8000-000000000005 && gi_identity "$W/gg-root"'
gi_umount_all

# ---- 3. golden_mbr_disk ----------------------------------------------------------------------
echo "== 3. golden_mbr_disk (the CI golden disk)"
C=$W/ci.img
t0=$(date +%s)
bed_check "golden_mbr_disk exits 0" golden_mbr_disk "$C" 1024
echo "    took $(( $(date +%s) - t0 ))s"
gi_check_layout "$C" "$W/ci.want" "the documented table" \
  1 "ext4 karoot" "ext4 $GD_UUID_ROOT karoot" \
  5 "swap kaswap" "swap $GD_UUID_SWAP kaswap" \
  6 "xfs kasrv" "xfs $GD_UUID_SRV kasrv" <<'EOF'
label dos id 0x6b614349 sectorsize 512
1 2048 1013760 83 boot - - -
2 1015808 1081344 5 - - - -
5 1017856 65536 82 - - - -
6 1085440 1011712 83 - - - -
EOF
bed_check "left detached: no loop device over the image" test -z "$(losetup -j "$C")"
bed_check "mount p1 and p6 read-only" eval 'gi_mount "$C" 1 "$W/c-root" && gi_mount "$C" 6 "$W/c-srv"'
bed_check "fstab: /, swap and /srv by UUID" gi_fstab_uuids "$W/c-root/etc/fstab" \
  "$GD_UUID_ROOT" "$GD_UUID_SWAP" "$GD_UUID_SRV"
bed_check "identity files, accounts" gi_identity "$W/c-root"
bed_check "junk in /tmp and /var/cache" gi_junk "$W/c-root"
bed_check "/srv is an empty mount point on p1" eval '[[ -d $W/c-root/srv && -z $(ls -A "$W/c-root/srv") ]]'
bed_check "varied_tree under /data (ext4)" gi_tree "$W/c-root/data"
bed_check "varied_tree at the top of /srv (xfs)" gi_tree "$W/c-srv"
gi_umount_all

# ---- the end: nothing of ours stays attached ------------------------------------------------
lt_check_clean

if (( BED_FAILS )); then echo "golden_image: FAIL ($BED_FAILS checks failed)"; exit 1; fi
echo "golden_image: PASS"
