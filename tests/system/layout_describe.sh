#!/usr/bin/env bash
# System test: `ka describe` reads disks back into desc files, and a description applied to
# another disk reproduces the table.
#  1. MBR golden disk (the seed layout, scaled to 1 GiB, with ext4/swap filesystems) on a loop
#     device: the desc has the seed's lines plus fs=, label= and the UUIDs blkid reports; the
#     image file describes the same as its loop device; --json carries the same facts
#  2. the description applied to a larger (1.5 GiB) disk: sfdisk --json tables equal (label,
#     disk id, starts, sizes, types, flags); describe --no-fs of both equal
#  3. --fill-last: the same layout grows into the larger disk
#  4. GPT golden disk with an ESP (vfat), names, the boot flag, an odd size, a gap and a
#     skipped partition number: described, applied to a 2 GiB disk, tables equal (PARTUUIDs too)
#  5. errors: a disk without a table, a missing disk
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

# ---- 1. MBR golden disk ----------------------------------------------------------------------
echo "== 1. describe an MBR golden disk"
printf 'linux 300 boot\nextended fill\nlogical swap 100\nlogical linux fill\n' >"$W/seed.desc"
truncate -s 1G "$W/gold.img"
lt_attach "$W/gold.img" G
bed_check "partition the golden disk" lt_run "$W/g.out" "$KA_BIN" partition --layout "$W/seed.desc" "$G" --yes
mkfs.ext4 -q -F -L root "$(lt_dev "$W/g.out" 1)"
mkswap -L swap0 "$(lt_dev "$W/g.out" 5)" >/dev/null
mkfs.ext4 -q -F -L var "$(lt_dev "$W/g.out" 6)"
sync
bed_check "ka describe exits 0" lt_run "$W/gold.desc" "$KA_BIN" describe "$G"
sed 's/^/    /' "$W/gold.desc"
U1=$(blkid -p -o value -s UUID "$(lt_dev "$W/g.out" 1)")
U5=$(blkid -p -o value -s UUID "$(lt_dev "$W/g.out" 5)")
U6=$(blkid -p -o value -s UUID "$(lt_dev "$W/g.out" 6)")
ID=$(sfdisk --json "$G" | python3 -c 'import json,sys; print(json.load(sys.stdin)["partitiontable"]["id"])')
{
  echo "label mbr id=$ID"
  echo "linux 300 boot fs=ext4 label=root uuid=$U1"
  echo "extended 723"
  echo "logical swap 100 fs=swap label=swap0 uuid=$U5"
  echo "logical linux 621 fs=ext4 label=var uuid=$U6"
} >"$W/gold.want"
lt_body "$W/gold.desc" >"$W/gold.body"
bed_check "desc: the seed's lines with filesystems, labels and blkid's UUIDs" lt_same_text "$W/gold.want" "$W/gold.body"
bed_check "the image file describes like its loop device" lt_run "$W/img.desc" "$KA_BIN" describe "$W/gold.img"
lt_body "$W/img.desc" >"$W/img.body"
bed_check "  ... same desc" lt_same_text "$W/gold.body" "$W/img.body"
bed_check "ka describe --json exits 0" lt_run "$W/gold.json" "$KA_BIN" describe --json "$G"
cat >"$W/check_json.py" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
body = open(sys.argv[2]).read()
p = j["partitions"]
ok = (j["label"] == "mbr" and j["size_bytes"] == 1 << 30 and j["sector_size"] == 512 and len(p) == 4
      and [x["number"] for x in p] == [1, 2, 5, 6]
      and (p[0]["start"], p[0]["sectors"], p[0]["type"], p[0]["boot"], p[0]["fs"], p[0]["uuid"]) ==
          (2048, 614400, "linux", True, "ext4", sys.argv[3])
      and p[1]["type"] == "extended" and p[2]["logical"] and p[2]["fs"] == "swap"
      and j["desc"] == body)
if not ok:
    print(json.dumps(j, indent=1))
sys.exit(0 if ok else 1)
PY
bed_check "--json: table in sectors, fs fields and the desc text" python3 "$W/check_json.py" "$W/gold.json" "$W/gold.body" "$U1"

# ---- 2. apply the description to a larger disk ----------------------------------------------
echo "== 2. apply the description to a larger disk"
truncate -s 1536M "$W/node.img"
lt_attach "$W/node.img" N
bed_check "ka partition --layout gold.desc on the 1.5 GiB disk" \
  lt_run "$W/n.out" "$KA_BIN" partition --layout "$W/gold.desc" "$N" --yes
bed_check "sfdisk --json: same table (label, id, starts, sizes, types, flags)" lt_same_table "$G" "$N"
lt_run "$W/gold.nofs" "$KA_BIN" describe --no-fs "$G"
lt_run "$W/node.nofs" "$KA_BIN" describe --no-fs "$N"
lt_body "$W/gold.nofs" >"$W/gold.nofs.body"
lt_body "$W/node.nofs" >"$W/node.nofs.body"
bed_check "describe --no-fs: same desc" lt_same_text "$W/gold.nofs.body" "$W/node.nofs.body"

# ---- 3. --fill-last ----------------------------------------------------------------------------
echo "== 3. describe --fill-last: the layout grows into a larger disk"
bed_check "ka describe --fill-last" lt_run "$W/fill.desc" "$KA_BIN" describe --fill-last --no-fs "$G"
sed 's/^/    /' "$W/fill.desc"
bed_check "fill for the extended and the last logical" \
  test "$(grep -Ec '^(extended fill|logical linux fill)$' "$W/fill.desc")" -eq 2
bed_check "apply it to the 1.5 GiB disk" lt_run "$W/f.out" "$KA_BIN" partition --layout "$W/fill.desc" "$N" --yes
bed_check "partition 6 now ends at the end of the larger disk" \
  test "$(lt_table "$N" | awk '$1 == 6 { print $2 + $3 }')" -eq $(( 1536 << 11 ))
bed_check "partitions 1 and 5 kept their place and size" \
  test "$(lt_table "$N" | awk '$1 == 1 || $1 == 5 { printf "%s:%s ", $2, $3 }')" = "2048:614400 618496:204800 "

# ---- 4. GPT golden disk -----------------------------------------------------------------------
echo "== 4. describe a GPT golden disk and clone it"
{
  echo 'label gpt'
  echo 'efi 100MiB name="EFI System"'
  echo 'linux 400MiB name=root boot'
  echo 'swap 1001s'
  echo 'linux 200MiB start=600MiB number=7 name=data'
} >"$W/gpt.desc"
truncate -s 1G "$W/ggpt.img"
lt_attach "$W/ggpt.img" GG
bed_check "partition the GPT golden disk" lt_run "$W/gg.out" "$KA_BIN" partition --layout "$W/gpt.desc" "$GG" --yes
mkfs.vfat -n ESP "$(lt_dev "$W/gg.out" 1)" >/dev/null
mkfs.ext4 -q -F -L root "$(lt_dev "$W/gg.out" 2)"
mkswap "$(lt_dev "$W/gg.out" 3)" >/dev/null 2>&1
sync
bed_check "ka describe (gpt)" lt_run "$W/ggpt.desc" "$KA_BIN" describe "$GG"
sed 's/^/    /' "$W/ggpt.desc"
bed_check "desc: ESP with its name, vfat and UUID" \
  grep -Eq '^efi 100 name="EFI System" fs=vfat label=ESP uuid=[0-9A-F]{4}-[0-9A-F]{4} partuuid=' "$W/ggpt.desc"
bed_check "desc: root with boot flag, ext4" grep -Eq '^linux 400 boot name=root fs=ext4 label=root uuid=' "$W/ggpt.desc"
bed_check "desc: odd size in sectors" grep -Eq '^swap 1001s fs=swap uuid=' "$W/ggpt.desc"
bed_check "desc: gap and skipped number kept" grep -Eq '^linux 200 start=600MiB number=7 name=data partuuid=' "$W/ggpt.desc"
truncate -s 2G "$W/ngpt.img"
lt_attach "$W/ngpt.img" NG
bed_check "apply the GPT description to a 2 GiB disk" \
  lt_run "$W/ng.out" "$KA_BIN" partition --layout "$W/ggpt.desc" "$NG" --yes
bed_check "sfdisk --json: same GPT (id, PARTUUIDs, names, attrs, starts, sizes)" lt_same_table "$GG" "$NG"

# ---- 5. errors --------------------------------------------------------------------------------
echo "== 5. errors"
truncate -s 64M "$W/blank.img"
rc=0
"$KA_BIN" describe "$W/blank.img" >/dev/null 2>"$W/blank.err" || rc=$?
bed_check "no partition table: exit 2, says so" \
  test "$rc" -eq 2 -a -n "$(grep 'has no partition table' "$W/blank.err")"
rc=0
"$KA_BIN" describe "$W/missing.img" >/dev/null 2>"$W/missing.err" || rc=$?
bed_check "missing disk: exit 2, names it" test "$rc" -eq 2 -a -n "$(grep 'missing.img' "$W/missing.err")"

# ---- the end: nothing of ours stays attached ------------------------------------------------
lt_check_clean

if (( BED_FAILS )); then echo "layout_describe: FAIL ($BED_FAILS checks failed)"; exit 1; fi
echo "layout_describe: PASS"
