#!/usr/bin/env bash
# System test: `ka partition` writes desc layouts onto loop-backed disk images.
#  1. the seed layout (linux / extended fill / logical swap / logical linux fill, scaled to a
#     1 GiB image) on a loop device: sfdisk --json shows the planned table; the partition
#     devices ka prints are usable (mkfs.ext4 + mkswap, blkid finds them at the right offsets)
#  2. the same with --expose loop: one offset loop device per partition, released afterwards
#  3. a GPT layout with an ESP (vfat), a BIOS boot partition, names, boot flag, 50% and fill
#  4. a too-small image: refused with "desc line N: does not fit", the image byte-identical
#  5. malformed descs and rule violations: refused naming the line, the image byte-identical
#  6. a disk with a mounted partition is refused; no --yes writes nothing; --dry-run prints
# Only loop devices this test attaches are used; all are detached at the end (and checked).
# Env: KA_BIN, KA_KEEP=1 (keep the work dir).
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"
# shellcheck source=layout_lib.bash
. "$(dirname "$0")/layout_lib.bash"

lt_begin
lt_trap

# ---- 1. the seed layout on a 1 GiB loop device --------------------------------------------
echo "== 1. seed layout, scaled to 1 GiB, on a loop device"
cat >"$W/seed.desc" <<'EOF'
# the seed's default layout (section 3), scaled to a 1 GiB disk
linux 300 boot
extended fill
logical swap 100
logical linux fill
EOF
truncate -s 1G "$W/a.img"
lt_attach "$W/a.img" A
bed_check "ka partition exits 0" lt_run "$W/a.out" "$KA_BIN" partition --layout "$W/seed.desc" "$A" --yes
sed 's/^/    /' "$W/a.out"
cat >"$W/a.want" <<'EOF'
label dos
1 2048 614400 83 boot -
2 616448 1480704 5 - -
5 618496 204800 82 - -
6 825344 1271808 83 - -
EOF
bed_check "sfdisk --json: the planned MBR table (types, starts, sizes, boot flag)" lt_table_is "$A" "$W/a.want"
P1=$(lt_dev "$W/a.out" 1) P5=$(lt_dev "$W/a.out" 5) P6=$(lt_dev "$W/a.out" 6)
echo "    partition devices: 1=$P1 5=$P5 6=$P6"
bed_check "partition devices are block devices" test -b "$P1" -a -b "$P5" -a -b "$P6"
bed_check "mkfs.ext4 on partition 6" mkfs.ext4 -q -F -L karoot "$P6"
bed_check "mkswap on partition 5" bed_quiet mkswap -L kaswap "$P5"
bed_check "blkid: partition 6 device is ext4 labelled karoot" \
  test "$(blkid -p -o value -s TYPE "$P6"):$(blkid -p -o value -s LABEL "$P6")" = "ext4:karoot"
bed_check "blkid on the disk: ext4 at sector 825344, swap at 618496" \
  test "$(lt_fs_at "$A" 825344):$(lt_fs_at "$A" 618496)" = "ext4:swap"
"$KA_BIN" describe "$A" >"$W/a.desc" 2>&1
sed 's/^/    describe: /' "$W/a.desc"
bed_check "describe: logical linux 621 fs=ext4 label=karoot" grep -Eq '^logical linux 621 fs=ext4 label=karoot uuid=' "$W/a.desc"
bed_check "describe: logical swap 100 fs=swap" grep -Eq '^logical swap 100 fs=swap label=kaswap uuid=' "$W/a.desc"

# ---- 2. again with offset loop devices ----------------------------------------------------
echo "== 2. the same layout exposed as offset loop devices (--expose loop)"
bed_check "ka partition --expose loop exits 0" \
  lt_run "$W/b.out" "$KA_BIN" partition --layout "$W/seed.desc" "$A" --yes --expose loop
sed 's/^/    /' "$W/b.out"
bed_check "sfdisk --json: same table" lt_table_is "$A" "$W/a.want"
Q6=$(lt_dev "$W/b.out" 6)
losetup --list --noheadings -O NAME,OFFSET,SIZELIMIT,BACK-FILE | grep -F " $A" | sed 's/^/    losetup: /'
bed_check "partition 6 is an offset loop device at 825344*512 over $A" \
  bash -c "losetup --list --noheadings -O NAME,OFFSET,SIZELIMIT,BACK-FILE '$Q6' | grep -Eq '^$Q6 +$(( 825344 * 512 )) +$(( 1271808 * 512 )) +$A\$'"
bed_check "the old filesystem signature is gone from partition 6" test -z "$(lt_fs_at "$A" 825344)"
bed_check "mkfs.ext4 on the offset loop device" mkfs.ext4 -q -F -L loopfs "$Q6"
bed_check "blkid on the disk finds it at sector 825344" test "$(lt_fs_at "$A" 825344)" = ext4
bed_check "ka partition --release detaches them" bed_quiet "$KA_BIN" partition --release "$A"
bed_check "no loop device left over $A" test -z "$(losetup -j "$A")"

# ---- 3. GPT with an ESP ---------------------------------------------------------------------
echo "== 3. GPT layout with an EFI system partition"
cat >"$W/gpt.desc" <<'EOF'
label gpt
efi 100MiB fs=vfat mount=/boot/efi name=ESP
bios 1 name=grub
linux 50% fs=ext4 mount=/ boot name=root
swap 64MiB name=swap
linux fill fs=ext4 mount=/srv name="srv data"
EOF
truncate -s 1G "$W/g.img"
lt_attach "$W/g.img" G
bed_check "ka partition (gpt) exits 0" lt_run "$W/g.out" "$KA_BIN" partition --layout "$W/gpt.desc" "$G" --yes
sed 's/^/    /' "$W/g.out"
cat >"$W/g.want" <<'EOF'
label gpt
1 2048 204800 C12A7328-F81F-11D2-BA4B-00A0C93EC93B - ESP
2 206848 2048 21686148-6449-6E6F-744E-656564454649 - grub
3 208896 1048576 0FC63DAF-8483-4772-8E79-3D69D8477DE4 boot root
4 1257472 131072 0657FD6D-A4AB-43C4-84E5-0933C84B4F4F - swap
5 1388544 706560 0FC63DAF-8483-4772-8E79-3D69D8477DE4 - srv data
EOF
bed_check "sfdisk --json: the planned GPT (types, names, LegacyBIOSBootable, 50%, fill)" lt_table_is "$G" "$W/g.want"
E1=$(lt_dev "$W/g.out" 1)
bed_check "mkfs.vfat on the ESP device" bed_quiet mkfs.vfat -n KAESP "$E1"
bed_check "blkid: vfat at sector 2048 of the disk" test "$(lt_fs_at "$G" 2048)" = vfat

# ---- 4. too small --------------------------------------------------------------------------
echo "== 4. a layout that does not fit leaves the disk untouched"
truncate -s 512M "$W/s.img"
printf 'label: dos\n,100M,83\n,,83\n' | sfdisk -q "$W/s.img"
printf 'golden bytes' | dd of="$W/s.img" bs=1 seek=$(( 300 << 20 )) conv=notrunc status=none
cp --sparse=always "$W/s.img" "$W/s.img.orig"
lt_attach "$W/s.img" S
printf 'linux 3500\nextended fill\nlogical swap 500\nlogical linux fill\n' >"$W/big.desc"
lt_refused "seed layout (3.5 GiB) on 512 MiB" "$W/big.desc" "$S" "$W/s.img" \
  'desc line 1: does not fit on the disk \(536870912 bytes, 512 MiB\).*nothing was written'
printf 'label gpt\nefi 100\nlinux 300\nswap 200\n' >"$W/big2.desc"
lt_refused "gpt 600 MiB on 512 MiB" "$W/big2.desc" "$S" "$W/s.img" 'desc line 4: does not fit.*short'
printf 'linux 100\nextended 100\nlogical linux 60\nlogical swap 60\n' >"$W/big3.desc"
lt_refused "logicals overflow the extended" "$W/big3.desc" "$S" "$W/s.img" \
  'desc line 4: does not fit in the extended partition \(desc line 2'

# ---- 5. malformed descs ----------------------------------------------------------------------
echo "== 5. malformed desc lines and broken rules are refused, the disk untouched"
i=0
while IFS='|' read -r desc re; do
  i=$(( i + 1 ))
  printf '%b' "$desc" >"$W/bad$i.desc"
  lt_refused "bad desc $i" "$W/bad$i.desc" "$S" "$W/s.img" "$re"
done <<'EOF'
linux 100\nlogical swap 50\n|desc line 2: logical partition without an extended partition
linux 1\nlinux 1\nlinux 1\nlinux 1\nlinux 1\n|desc line 5: .*at most 4
linux 100\nlinus 100\n|desc line 2: unknown partition type 'linus'
linux 10O\n|desc line 1: size '10O': unknown unit 'O'
linux fill\nswap fill\n|desc line 2: a second fill at the top level \(desc line 1
label gpt\nefi 100 fs=ext4\n|desc line 2: an EFI system partition must be vfat
label gpt\nextended fill\n|desc line 2: an extended partition exists only on MBR disks
linux 100 colour=red\n|desc line 1: unknown attribute 'colour='
# header\nlinux\n|desc line 2: missing size
linux 100\nlabel gpt\n|desc line 2: 'label' must come before
EOF

# ---- 6. in use, --yes, --dry-run ------------------------------------------------------------
echo "== 6. a mounted partition, no --yes, --dry-run"
bed_check "re-partition $A (auto: kernel devices or offset loops)" \
  lt_run "$W/m.out" "$KA_BIN" partition --layout "$W/seed.desc" "$A" --yes
M6=$(lt_dev "$W/m.out" 6)
mkdir -p "$W/mnt"
# no lazy init: nothing may write to the image while it is mounted read-only
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$M6"
if mount -o ro "$M6" "$W/mnt"; then
  LT_MOUNTS+=("$W/mnt")
  sync
  cp --sparse=always "$W/a.img" "$W/a.img.orig"
  lt_refused "disk with a mounted partition" "$W/seed.desc" "$A" "$W/a.img" "is in use.*is mounted on $W/mnt" 1
  rc=0
  "$KA_BIN" partition --release "$A" >/dev/null 2>"$W/rel.err" || rc=$?
  bed_check "--release refuses while a partition is mounted (exit 1, 'is in use')" \
    test "$rc" -eq 1 -a -n "$(grep 'is in use' "$W/rel.err")"
  umount "$W/mnt" && LT_MOUNTS=()
else
  bed_check "mount partition 6 ($M6) read-only" false
fi
cp --sparse=always "$W/s.img" "$W/s.img.orig"
rc=0
"$KA_BIN" partition --layout "$W/seed.desc" "$S" >"$W/noyes.out" 2>"$W/noyes.err" || rc=$?
bed_check "without --yes: exit 2 and says so" test "$rc" -eq 2 -a -n "$(grep -- '--yes' "$W/noyes.err")"
bed_check "without --yes: image unchanged" cmp -s "$W/s.img" "$W/s.img.orig"
rc=0
"$KA_BIN" partition --layout "$W/seed.desc" "$S" --dry-run >"$W/dry.out" 2>"$W/dry.err" || rc=$?
bed_check "--dry-run: exit 0" test "$rc" -eq 0
bed_check "--dry-run: prints the plan and the sfdisk script" \
  grep -q "^#   ${S}p6 : start=825344, size=$(( (512 << 11) - 825344 )), type=83" "$W/dry.out"
bed_check "--dry-run: image unchanged" cmp -s "$W/s.img" "$W/s.img.orig"

# ---- the end: nothing of ours stays attached ------------------------------------------------
lt_check_clean

if (( BED_FAILS )); then echo "layout_apply: FAIL ($BED_FAILS checks failed)"; exit 1; fi
echo "layout_apply: PASS"
