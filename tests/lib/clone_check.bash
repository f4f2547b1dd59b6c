# shellcheck shell=bash
# tests/lib/clone_check.bash - checking clones against their golden: mount a partition of a disk
# (image file or block device) read-only through an autoclear loop device, compare tree manifests
# (ka tree-manifest) leaving out the files a clone individualises, compare partition tables.
# Source after tests/lib/bed.sh. Mounts made here are recorded in CC_MOUNTS; cc_umount_all
# undoes them (call it from the test's cleanup, or let cc_trap's cleanup do it).

CC_MOUNTS=()
CC_LOOPS=()   # the test's whole-disk loop devices: cc_trap's cleanup detaches them

# cc_trap: the test's EXIT trap (INT and TERM become exits): unmount what cc_mount mounted, detach
# the loop devices of CC_LOOPS (their partitions first), then bed_cleanup
cc_trap() {
  trap _cc_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
_cc_cleanup() {
  local rc=$? l
  [[ $BASHPID == "$BED_MAIN_PID" ]] || exit "$rc"   # not in a forked child
  cc_umount_all
  for l in "${CC_LOOPS[@]}"; do partx -d "$l" >/dev/null 2>&1 || true; losetup -d "$l" 2>/dev/null || true; done
  (exit "$rc"); bed_cleanup
}

# Files a clone changes on purpose (ka join individualises them), relative to the root
# filesystem, as regular expressions over manifest paths; and directories whose mtime changes
# because entries in them were removed or added.
CC_INDIVIDUAL='^(etc/hostname|etc/hosts|etc/machine-id|etc/ssh/ssh_host_.*|etc/udev/rules\.d/70-persistent-net\.rules|etc/NetworkManager/system-connections/.*|var/lib/dhcp/.*|var/lib/dbus/machine-id|etc/rc\.local|etc/systemd/system/.*)$'
CC_TOUCHED_DIRS='^(etc|etc/ssh|etc/udev/rules\.d|etc/NetworkManager/system-connections|var/lib/dhcp|var/lib/dbus|etc/systemd|etc/systemd/system)$'

# cc_part_range DISK N: "START_BYTES SIZE_BYTES" of partition N
cc_part_range() {
  sfdisk --json "$1" | python3 -c '
import json, re, sys
t = json.load(sys.stdin)["partitiontable"]; ss = t.get("sectorsize", 512)
for p in t["partitions"]:
    if re.search(r"(\d+)$", p["node"]).group(1) == sys.argv[1]:
        print(p["start"] * ss, p["size"] * ss)' "$2"
}

# cc_mount DISK N FSTYPE DIR: mount partition N of DISK read-only on DIR (no journal replay)
cc_mount() {
  local disk=$1 n=$2 type=$3 dir=$4 range opts=ro,loop
  range=$(cc_part_range "$disk" "$n") || return 1
  [[ -n $range ]] || { echo "cc_mount: $disk has no partition $n" >&2; return 1; }
  set -- $range
  case $type in
    ext3|ext4) opts+=,noload ;;
    xfs) opts+=,norecovery,nouuid ;;
  esac
  mkdir -p "$dir"
  mount -t "$type" -o "$opts,offset=$1,sizelimit=$2" "$disk" "$dir" || return 1
  CC_MOUNTS+=("$dir")
}

cc_umount_all() {
  local i
  for (( i = ${#CC_MOUNTS[@]} - 1; i >= 0; i-- )); do
    mountpoint -q "${CC_MOUNTS[i]}" && { umount "${CC_MOUNTS[i]}" || umount -l "${CC_MOUNTS[i]}"; }
  done
  CC_MOUNTS=()
}

# cc_manifest DIR OUT [EXCLUDED_REL...]: the tree manifest of DIR, contents of EXCLUDED left out
cc_manifest() {
  local dir=$1 out=$2 x args=()
  shift 2
  for x in "$@"; do args+=(--exclude-contents "$x"); done
  "$KA_BIN" tree-manifest "$dir" "${args[@]}" >"$out" 2>"$out.err"
}

# cc_filter_individual IN OUT: IN without the lines of individualised files and touched dirs
cc_filter_individual() {
  python3 -c '
import re, sys
ind = re.compile(sys.argv[1]); dirs = re.compile(sys.argv[2])
for line in open(sys.argv[3], encoding="utf-8", errors="surrogateescape"):
    path, kind = line.split(" ", 2)[:2]
    if ind.match(path) or (kind == "d" and dirs.match(path)):
        continue
    sys.stdout.write(line)' "$CC_INDIVIDUAL" "$CC_TOUCHED_DIRS" "$1" >"$2"
}

# cc_same_manifest WANT GOT: equal, else the first differences
cc_same_manifest() {
  diff "$1" "$2" >"$2.diff" && return 0
  echo "    manifests differ ($(grep -c '^[<>]' "$2.diff") lines), first ones:"
  head -20 "$2.diff" | sed 's/^/      /'
  return 1
}

# cc_table DISK: sfdisk's dump without the device names
cc_table() { sfdisk --dump "$1" | sed -E -e "s#^$1p?([0-9]+) #DISK\1 #" -e '/^device:/d'; }
