#!/usr/bin/env bash
# One command for the demo: installs the Debian packages, builds ka, builds a golden disk image of
# a small real Linux system (busybox; scripts/make-golden.sh), then clones it with `ka serve` onto
# NODES nodes running `ka join`, each in its own network namespace on a private bridge with its own
# loop-backed 1 GiB disk, and verifies every clone against the golden: partition table, filesystem
# UUIDs and labels, every file's content and metadata, and the individualised files.
#   scripts/demo.sh [NODES] [BULK_MIB]     (defaults: 4 nodes, 200 MiB of bulk data in the golden)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
nodes=${1:-4}
bulk=${2:-200}
"$root/scripts/setup.sh"
"$root/scripts/build.sh"

export KA_BIN=$root/build/ka
# shellcheck source=../tests/lib/bed.sh
. "$root/tests/lib/bed.sh"
# shellcheck source=../tests/lib/clone_check.bash
. "$root/tests/lib/clone_check.bash"
bed_require_root
bed_workdir
w=$BED_WORK
cc_trap   # cleanup: mounts, the node disks (CC_LOOPS), the bed

echo "== building the golden disk image (busybox Linux, $bulk MiB of bulk data) =="
"$root/scripts/make-golden.sh" "$w/golden.img" --bulk "$bulk" | sed 's/^/   /'

echo "== $nodes blank 1 GiB disks (loop devices) for the nodes =="
for i in $(seq 1 "$nodes"); do
  truncate -s 1G "$w/node$i.img"
  CC_LOOPS+=("$(losetup -f --show "$w/node$i.img")")
  echo "   node$i: ${CC_LOOPS[-1]}"
done

echo "== private network: server h0 + nodes h1..h$nodes on a bridge (namespaces) =="
bed_up "$nodes"
"$KA_BIN" secret new "$w/secret"   # 32 random bytes, mode 600

echo "== cloning: ka serve on h0, ka join on every node (session 'demo') =="
pids=()
for i in $(seq 1 "$nodes"); do
  bed_bg "$i" "$w/node$i.log" "$KA_BIN" join --disk "${CC_LOOPS[i-1]}" --session demo --secret-file "$w/secret" \
    --name "node$i"
  pids+=("$BED_LAST_PID")
done
rc=0
bed_exec 0 "$KA_BIN" serve --nodes "$nodes" --source "$w/golden.img" --session demo --secret-file "$w/secret" \
  -x /tmp -x /var/cache --hostname-template 'node-{index:02}' --progress-interval 1 \
  --report "$w/report.json" || rc=$?
for i in $(seq 1 "$nodes"); do
  if ! wait "${pids[i-1]}"; then
    rc=1
    echo "node$i failed; its log:"; sed 's/^/   /' "$w/node$i.log.err" | tail -20
  fi
done

echo "== verifying every clone against the golden =="
cc_mount "$w/golden.img" 6 ext4 "$w/g.root"
cc_mount "$w/golden.img" 1 ext4 "$w/g.boot"
cc_manifest "$w/g.root" "$w/g.root.man" tmp var/cache
cc_manifest "$w/g.boot" "$w/g.boot.man"
cc_filter_individual "$w/g.root.man" "$w/g.root.cmp"
golden_table=$(cc_table "$w/golden.img")
for i in $(seq 1 "$nodes"); do
  d=${CC_LOOPS[i-1]} m=$w/n$i verdict=identical
  [[ $(cc_table "$d") == "$golden_table" ]] || verdict="partition table DIFFERS"
  if cc_mount "$d" 6 ext4 "$m.root" && cc_mount "$d" 1 ext4 "$m.boot"; then
    cc_manifest "$m.root" "$m.root.man" tmp var/cache
    cc_manifest "$m.boot" "$m.boot.man"
    cc_filter_individual "$m.root.man" "$m.root.cmp"
    cmp -s "$w/g.root.cmp" "$m.root.cmp" || verdict="/ DIFFERS (diff $w/g.root.cmp $m.root.cmp)"
    cmp -s "$w/g.boot.man" "$m.boot.man" || verdict="/boot DIFFERS"
    host=$(cat "$m.root/etc/hostname")
    keys=$(find "$m.root/etc/ssh" -name 'ssh_host_*' | wc -l)
    mid=$(stat -c %s "$m.root/etc/machine-id")
  else
    verdict="cannot mount its filesystems" host=? keys=? mid=?
  fi
  [[ $verdict == identical ]] || rc=1
  printf '   node%-3s %-10s %s (%s entries compared); hostname %s, machine-id %s bytes, %s ssh host keys\n' \
    "$i" "$d" "$verdict" "$(( $(wc -l <"$w/g.root.cmp") + $(wc -l <"$w/g.boot.man") ))" "$host" "$mid" "$keys"
done
cc_umount_all
python3 - "$w/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); c = r["clone"]
print(f"   report: {len(r['ok'])} ok, {len(r['ko'])} ko; {c['stream_bytes']/2**20:.0f} MiB streamed in {r['seconds']:.1f} s "
      f"({r['throughput_mib_s']:.1f} MiB/s per node); golden filesystems use {c['used_bytes']/2**20:.0f} MiB, "
      f"each link carried {100*c['wire_to_used_ratio']:.0f}% of that")
PY
exit $rc
