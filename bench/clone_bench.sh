#!/usr/bin/env bash
# clone_bench.sh - how long a whole clone takes (ka serve -> ka join on N nodes), against the
# same work done locally on one machine without any network, run side by side.
#
#   (a) golden: scripts/make-golden.sh with BULK MiB of bulk data (docs, libraries, random);
#   (b) baseline: for each of its filesystems, on this machine, `ka tree-archive | ka tree-extract`
#       into a freshly made filesystem of the same type (what one node does, minus the network):
#       seconds and MiB/s of the golden's used bytes;
#   (c) ka serve to N = 1, 4 nodes (h1..hN in network namespaces, every link shaped to RATE with
#       tc tbf, 1 GiB... 2 GiB loop disks): the report's prepare seconds (partition + mkfs) and
#       stream seconds (first frame to the last node's verified END), whole session seconds
#       (joins, prepare, stream and every node's finishing steps), bytes on the wire per link, the
#       zstd level and threads ka serve chose; ratio = baseline seconds / stream seconds.
# Prints a markdown table for docs/performance.md. Everything is cleaned up at exit.
#
#   --debian: the golden is the real Debian 12 system of scripts/make-debian-golden.sh (MBR: /boot p1,
#   swap p5, / p6; cached under /var/cache/ka-test, built the first time) instead of (a); the nodes
#   then also run GRUB and the initramfs check in their chroot, as a real clone does.
#
# Usage: bench/clone_bench.sh [--bulk MIB] [--nodes "1 4"] [--rate RATE] [--debian]
# Env: KA_BIN, KA_KEEP=1 (keep the work dir).
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../tests/lib/bed.sh
. "$root/tests/lib/bed.sh"
# shellcheck source=../tests/lib/clone_check.bash
. "$root/tests/lib/clone_check.bash"

# shellcheck source=lib/options.bash
. "$root/bench/lib/options.bash"

BULK=600 NODES="1 4" RATE=1gbit DEBIAN=0
bench_options clone_bench 2,18 --debian:DEBIAN --bulk=BULK --nodes=NODES --rate=RATE -- "$@"
MAXN=0
for n in $NODES; do (( n > MAXN )) && MAXN=$n; done
bed_require_root
bed_require_ka
bed_workdir
W=$BED_WORK
cc_trap   # cleanup: mounts, the node disks (CC_LOOPS), the bed
KA_TIMEOUT=900
size=$(( BULK * 2 + 1024 ))

if (( DEBIAN )); then
  echo "== golden: make-debian-golden.sh --layout mbr (cached in /var/cache/ka-test)"
  out=$(bash "$root/scripts/make-debian-golden.sh" --test-hook --layout mbr --cache /var/cache/ka-test 2>"$W/golden.log") \
    || { cat "$W/golden.log"; bed_die "make-debian-golden failed"; }
  cp --sparse=always "$(tail -n 1 <<<"$out")" "$W/golden.img"
  size=$(( $(stat -c %s "$W/golden.img") / 1048576 + 512 ))
else
  echo "== golden: make-golden.sh --bulk $BULK --size $size"
  "$root/scripts/make-golden.sh" "$W/golden.img" --bulk "$BULK" --size "$size" >"$W/golden.log" 2>&1 \
    || { cat "$W/golden.log"; bed_die "make-golden failed"; }
fi

echo "== baseline: tree-archive | tree-extract into fresh filesystems, on this machine"
base_s=0
for n in 1 6; do
  cc_mount "$W/golden.img" "$n" ext4 "$W/g$n" || bed_die "cannot mount the golden's p$n"
  read -r _ psize < <(cc_part_range "$W/golden.img" "$n")
  truncate -s "$psize" "$W/base$n.img"
  mkfs.ext4 -q -F "$W/base$n.img"
  mkdir -p "$W/b$n"
  mount -o loop "$W/base$n.img" "$W/b$n" && CC_MOUNTS+=("$W/b$n")
  sync; echo 3 >/proc/sys/vm/drop_caches
  t0=$EPOCHREALTIME
  "$KA_BIN" tree-archive "$W/g$n" -o - 2>/dev/null | "$KA_BIN" tree-extract "$W/b$n" -i - 2>/dev/null
  sync
  base_s=$(python3 -c "print($base_s + $EPOCHREALTIME - $t0)")
done
cc_umount_all
echo "   baseline: $base_s s"

for i in $(seq 1 "$MAXN"); do
  truncate -s "${size}M" "$W/node$i.img"
  CC_LOOPS+=("$(losetup -f --show "$W/node$i.img")")
done
bed_up "$MAXN" "$RATE" >/dev/null
bed_secret "$W/secret"
# The links' speed for ka serve's automatic zstd level (veth reports 10 Gbit/s, tbf shapes it).
link_args=()
if [[ $RATE =~ ^([0-9]+)(gbit|mbit)$ ]]; then
  mbit=${BASH_REMATCH[1]}
  [[ ${BASH_REMATCH[2]} == gbit ]] && mbit=$(( mbit * 1000 ))
  link_args=(--link-mbit "$mbit")
fi
rows=()
for n in $NODES; do
  echo "== clone to $n node(s) over $RATE links"
  sync; echo 3 >/proc/sys/vm/drop_caches
  pids=()
  ka_bg 0 "$W/serve$n.log" serve --nodes "$n" --source "$W/golden.img" --session "bench$n" \
    --secret-file "$W/secret" -x /tmp -x /var/cache --hostname-template 'node-{index}' --report "$W/r$n.json" \
    "${link_args[@]}"
  spid=$BED_LAST_PID
  bed_wait_tcp 0 30765 60 || bed_die "serve did not start"
  for i in $(seq 1 "$n"); do
    ka_bg "$i" "$W/join$n.$i.log" join --disk "${CC_LOOPS[i-1]}" --server "$(bed_ip 0)" --session "bench$n" \
      --secret-file "$W/secret" --name "node$i"
    pids+=("$BED_LAST_PID")
  done
  bed_wait "$spid" || { bed_dump "$W/serve$n.log"; bed_die "clone to $n nodes failed"; }
  for p in "${pids[@]}"; do bed_wait "$p" || bed_die "a node failed"; done
  rows+=("$(python3 - "$W/r$n.json" "$n" "$base_s" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2]); base = float(sys.argv[3]); c = r["clone"]
used = c["used_bytes"] / 2**20; wire = c["wire_bytes_per_link"] / 2**20; s = r["seconds"]
whole = r.get("session_seconds", 0); z = c.get("zstd", {})
print(f"| {n} | {used:.0f} | {wire:.0f} ({100*c['wire_to_used_ratio']:.0f}%) | {z.get('level', '-')} x{z.get('threads', '-')} "
      f"| {r['prepare_seconds']:.1f} | {s:.1f} | {whole:.1f} | {used/s:.1f} | {base:.1f} | {base/s:.2f} |")
PY
)")
done
echo
echo "| nodes | golden used MiB | wire MiB per link | zstd level x threads | prepare s | stream s | session s | used MiB/s per node | local baseline s | ratio |"
echo "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
