# shellcheck shell=bash
# tests/system/layout_lib.bash - helpers for the layout_*.sh system tests: loop-backed disk
# images, cleanup of every loop device a test (or ka for it) attached, and sfdisk --json checks.
# Not a test itself (CTest runs tests/system/*.sh only). Source it after tests/lib/bed.sh:
#     lt_begin [TOOL...]         # bed_workdir (W=$BED_WORK), lt_require, bed_require_ka and
#                                # lt_require_tools TOOL...
#     lt_trap [FN]               # on EXIT: FN (default lt_cleanup: unmount, detach our loop
#                                # devices, bed_cleanup; a FN of the test's own ends with it)
#     lt_attach "$BED_WORK/disk.img" D  # D=/dev/loopN (no partition scanning), recorded for cleanup
# "Ours" are loop devices whose backing file is in the work dir or is a loop device we attached
# (ka's offset loop devices over it): only those are ever detached.

LT_LOOPS=()     # loop devices attached by this test (its disks)
LT_MOUNTS=()    # mount points made by this test

lt_require() {
  [[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (loop devices)"; exit 77; }
  local t
  for t in losetup sfdisk partx wipefs blkid mkfs.ext4 mkswap mkfs.vfat python3 cmp; do
    command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not installed (scripts/setup.sh installs it)"; exit 77; }
  done
  truncate -s 1M "$BED_WORK/probe.img"
  local l
  l=$(losetup -f --show "$BED_WORK/probe.img" 2>/dev/null) || { echo "SKIP: cannot attach a loop device here"; exit 77; }
  losetup -d "$l"
  rm -f "$BED_WORK/probe.img"
}

# lt_attach IMAGE VAR: attach IMAGE (no partition scanning) and store the device in VAR
lt_attach() {
  local dev
  dev=$(losetup -f --show "$1") || bed_die "losetup $1 failed"
  LT_LOOPS+=("$dev")
  printf -v "$2" '%s' "$dev"
}

# Loop devices (NAME BACKING) whose backing is one of ours: an image in the work dir or a
# loop device we attached (ka's offset loop devices over it).
lt_ours() {
  local name back l
  losetup --list --noheadings -O NAME,BACK-FILE 2>/dev/null | while read -r name back; do
    [[ -n $BED_WORK && $back == "$BED_WORK"/* ]] && { echo "$name $back"; continue; }
    for l in "${LT_LOOPS[@]}"; do [[ $back == "$l" ]] && { echo "$name $back"; break; }; done
  done
}

lt_release_all() {
  local m name back pass
  for m in "${LT_MOUNTS[@]}"; do mountpoint -q "$m" && umount "$m"; done
  LT_MOUNTS=()
  # Offset loops over our loops first, then the disks themselves. A loop device something still
  # holds for a moment (blkid, a udev-less kernel's partition scan, a loaded machine) is tried
  # again, for up to 5 s.
  for pass in 1 2 3 4 5 6 7 8 9 10 11 12; do
    while read -r name back; do
      [[ -n $name ]] || continue
      if [[ $back == /dev/loop* ]] || (( pass > 1 )); then
        partx -d "$name" >/dev/null 2>&1
        losetup -d "$name" 2>/dev/null
      fi
    done < <(lt_ours)
    (( pass > 2 )) && [[ -z $(lt_ours) ]] && break
    (( pass > 1 )) && sleep 0.5
  done
}

# lt_require_tools TOOL...: exit 77 (skip) unless every TOOL is installed
lt_require_tools() {
  local t
  for t; do
    command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not installed (scripts/setup.sh installs it)"; exit 77; }
  done
}

# lt_begin [TOOL...]: the opening of a test that runs ka on loop devices
# shellcheck disable=SC2120  # the TOOLs are optional
lt_begin() {
  bed_workdir
  # shellcheck disable=SC2034  # W is the tests' name for the work dir
  W=$BED_WORK
  lt_require
  bed_require_ka
  lt_require_tools "$@"
}

# shellcheck disable=SC2120  # FN is optional
lt_trap() {
  # shellcheck disable=SC2064  # FN is named now
  trap "${1:-lt_cleanup}" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

lt_cleanup() {
  local rc=$?
  [[ $BASHPID == "$BED_MAIN_PID" ]] || exit "$rc"
  lt_release_all
  (exit "$rc")   # bed_cleanup exits with the status it finds
  bed_cleanup
}

# lt_leftovers: true when no loop device of ours is attached any more
lt_leftovers() {
  local left
  left=$(lt_ours)
  [[ -z $left ]] || { echo "    still attached: $left"; return 1; }
}

# lt_table DEV: "label KIND" then one line per partition: NUM START SIZE TYPE BOOT NAME
lt_table() {
  sfdisk --json "$1" | python3 -c '
import json, re, sys
t = json.load(sys.stdin)["partitiontable"]
print("label", t["label"])
for p in t.get("partitions", []):
    n = re.search(r"(\d+)$", p["node"]).group(1)
    boot = p.get("bootable") or "LegacyBIOSBootable" in p.get("attrs", "")
    print(n, p["start"], p["size"], p["type"], "boot" if boot else "-", p.get("name", "-"))
'
}

# lt_same_text WANT_FILE GOT_FILE: equal, or a diff
lt_same_text() { diff -u "$1" "$2" | sed 's/^/    /'; [[ ${PIPESTATUS[0]} -eq 0 ]]; }

# lt_table_is DEV WANT_FILE: lt_table DEV equals WANT_FILE
lt_table_is() { lt_table "$1" >"$BED_WORK/table.got"; lt_same_text "$2" "$BED_WORK/table.got"; }

# lt_run OUT CMD...: run CMD with stdout to OUT and stderr to OUT.err
lt_run() { local out=$1; shift; "$@" >"$out" 2>"$out.err"; }

# lt_dev OUT NUM: the partition device ka printed for partition NUM
lt_dev() { awk -v n="$2" '$1 == n { print $2 }' "$1"; }

# lt_fs_at DISK OFFSET_SECTORS: filesystem type blkid finds at that sector of DISK
lt_fs_at() { blkid -p -o value -s TYPE -O $(( $2 * 512 )) "$1" 2>/dev/null; }

# lt_refused NAME DESC_FILE DISK IMAGE REGEX [WANT_RC]: ka partition fails (rc 2 by default) with
# REGEX on stderr, and IMAGE is byte-identical to IMAGE.orig
lt_refused() {
  local name=$1 desc=$2 disk=$3 img=$4 re=$5 want=${6:-2} rc=0
  "$KA_BIN" partition --layout "$desc" "$disk" --yes >"$BED_WORK/ref.out" 2>"$BED_WORK/ref.err" || rc=$?
  bed_check "$name: exit $want (got $rc)" test "$rc" -eq "$want"
  bed_check "$name: error says /$re/" grep -Eq -- "$re" "$BED_WORK/ref.err"
  sed 's/^/    stderr: /' "$BED_WORK/ref.err"
  bed_check "$name: image unchanged" cmp -s "$img" "$img.orig"
}

# lt_table_full DEV: like lt_table plus the disk id and each partition's UUID (GPT): what a
# clone must reproduce exactly
lt_table_full() {
  sfdisk --json "$1" | python3 -c '
import json, re, sys
t = json.load(sys.stdin)["partitiontable"]
print("label", t["label"], "id", t.get("id"), "sectorsize", t.get("sectorsize", 512))
for p in t.get("partitions", []):
    n = re.search(r"(\d+)$", p["node"]).group(1)
    print(n, p["start"], p["size"], p["type"], "boot" if p.get("bootable") else "-",
          p.get("attrs", "-"), p.get("name", "-"), p.get("uuid", "-"))
'
}

# lt_same_table DEV1 DEV2: lt_table_full of both are equal
lt_same_table() {
  lt_table_full "$1" >"$BED_WORK/t1"
  lt_table_full "$2" >"$BED_WORK/t2"
  sed 's/^/    /' "$BED_WORK/t1"
  lt_same_text "$BED_WORK/t1" "$BED_WORK/t2"
}

# lt_body FILE: a desc without its comment lines
lt_body() { grep -v '^#' "$1"; }

# lt_check_clean: detach everything of ours, then check that nothing is left: no loop device of
# ours in losetup -a, no kernel partitions left behind on the loop devices the test used
lt_check_clean() {
  local l name parts
  lt_release_all
  bed_check "losetup -a: no loop device of this test left" lt_leftovers
  for l in "${LT_LOOPS[@]}"; do
    name=${l#/dev/}
    parts=$(compgen -G "/sys/block/$name/${name}p*")
    bed_check "no stale kernel partitions on $l" test -z "$parts"
  done
}
