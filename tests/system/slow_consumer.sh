#!/usr/bin/env bash
# System test 5: a slow local consumer in the middle of the chain.
# Every receiver forwards data to the next node BEFORE writing it locally, through a bounded
# buffer (--buffer). Chain sender h0 -> h1 -> h2 -> h3 (ordered by IP address), 64 MiB random.
#  run 1: node2 (h2, middle of the chain) runs --exec 'sleep 6; cat > FILE' (its local consumer
#         reads nothing for 6 s), default --buffer (128 MiB >= the stream); node1, node3 --output.
#         Everything ok and byte-exact, and node3 (downstream of the slow node) reported done
#         well before node2: seconds(node3) + 3 < seconds(node2) in the report. The slow local
#         consumer did not slow the chain while node2's buffer had room.
#         Nobody held the chain back (every node's held_back_s is 0 in the report).
#  run 2: the same, but node2 runs with --buffer 8MiB (< the 64 MiB stream): node2's buffer
#         fills up and holds the chain back (backpressure, not loss). Everything still completes
#         ok and byte-exact; the per-node timings are printed (not asserted: too timing dependent).
#         The sender names node2 once in its log ("holds its chain back: its output ..."), and the
#         report says node2 held_back_by "output" for at least 1 s, node1 and node3 never.
#  run 3: every node writes to a file, but node2's link is slower (its switch port shaped to
#         50 Mbit/s, the others unshaped, 3.2 Gbit/s or more): node1 waits on node2 while node2's
#         own ring has room. The sender names node2 ("holds its chain back: it takes the data
#         slower than node1 sends it"), the report says held_back_by "link"; node1 (held up by
#         node2, its ring full) and node3 are not named. Everything ok and byte-exact.
# Env: KA_BIN, KA_TIMEOUT (s, default 120), KA_KEEP=1.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

PORT=30765
DPORT=30764
N=3
SLOW=2          # node2 = h2, the middle of the chain
DELAY=6         # seconds node2's local consumer reads nothing
BYTES=$(( 64 << 20 ))
bed_begin "$N" "" "$BYTES"

# node_seconds REPORT NAME: print the "seconds" of node NAME in REPORT (empty if missing)
node_seconds() {
  python3 - "$1" "$2" <<'PYEOF' 2>/dev/null
import json, sys
for n in json.load(open(sys.argv[1])).get("nodes", []):
    if isinstance(n, dict) and n.get("name") == sys.argv[2] and isinstance(n.get("seconds"), (int, float)):
        print(n["seconds"])
PYEOF
}

# held_back REPORT NAME: "SECONDS BY" of node NAME (BY: output, link or none)
held_back() {
  python3 - "$1" "$2" <<'PYEOF' 2>/dev/null
import json, sys
for n in json.load(open(sys.argv[1])).get("nodes", []):
    if isinstance(n, dict) and n.get("name") == sys.argv[2]:
        print("%.2f %s" % (n.get("held_back_s", -1), n.get("held_back_by") or "none"))
PYEOF
}
# held_is REPORT NAME BY MIN: node NAME held its chain back by BY for at least MIN s (BY none: never)
held_is() {
  local got s by
  got=$(held_back "$1" "$2")
  read -r s by <<<"$got"
  echo "    $2: held its chain back ${s:-?} s (${by:-?})"
  [[ $by == "$3" ]] || return 1
  if [[ $3 == none ]]; then [[ $s == 0.00 ]]; else awk -v s="$s" -v m="$4" 'BEGIN { exit !(s >= m) }'; fi
}

# faster_by A B MARGIN: true when A + MARGIN < B (floating point)
faster_by() {
  [[ -n $1 && -n $2 ]] || { echo "    missing timing (node3='$1' node2='$2')"; return 1; }
  awk -v a="$1" -v b="$2" -v m="$3" 'BEGIN { exit !(a + m < b) }' \
    || { echo "    node3 done at ${1}s, node2 at ${2}s: want node3 + $3 < node2"; return 1; }
}

# run_slow RUN NODE2_BUFFER_ARGS...: one session; sets T1 T2 T3 (per-node seconds of the report)
run_slow() {
  local run=$1 i spid sink logs pids=() f0=$BED_FAILS; shift
  local S=slow$run.$$
  echo "== run $run: $(( BYTES >> 20 )) MiB, $N receivers, node$SLOW --exec 'sleep $DELAY; cat > FILE'${*:+ (node$SLOW $*)}"
  ka_bg 0 "$W/send$run.log" send --nodes "$N" --session "$S" --secret-file "$W/secret" \
    --report "$W/report$run.json" "$W/src.bin"
  spid=$BED_LAST_PID
  logs=("$W/send$run.log")
  # start the receivers only once the sender listens (TCP and discovery), so that they find it at
  # the first try and node2's `sleep` (its command starts with the receiver) overlaps the session
  bed_check "sender listens on TCP $PORT" bed_wait_tcp 0 "$PORT" 20
  bed_check "sender answers discovery on UDP $DPORT" bed_wait_udp 0 "$DPORT" 20
  for (( i = 1; i <= N; i++ )); do
    if (( i == SLOW )); then
      sink=(--exec "sleep $DELAY; cat > '$W/out$run.$i.bin'" "$@")
    else
      sink=(--output "$W/out$run.$i.bin")
    fi
    ka_bg "$i" "$W/r$run.$i.log" receive --session "$S" --secret-file "$W/secret" --name "node$i" "${sink[@]}"
    pids[i]=$BED_LAST_PID
    logs+=("$W/r$run.$i.log")
  done
  bed_check "sender exits 0" ka_rc_is 0 "$spid"
  for (( i = 1; i <= N; i++ )); do
    bed_check "receiver node$i exits 0" ka_rc_is 0 "${pids[i]}"
  done
  for (( i = 1; i <= N; i++ )); do
    bed_check "node$i output == source ($(( BYTES >> 20 )) MiB, cmp)" ka_same "$W/src.bin" "$W/out$run.$i.bin"
  done
  bed_check "report: 3 ok nodes, ko empty, bytes/digests consistent" \
    ka_check_report "$W/report$run.json" "$BYTES" node1,node2,node3 ""
  T1=$(node_seconds "$W/report$run.json" node1)
  T2=$(node_seconds "$W/report$run.json" node2)
  T3=$(node_seconds "$W/report$run.json" node3)
  echo "    done after chain start: node1 ${T1:-?} s, node2 (slow consumer) ${T2:-?} s, node3 ${T3:-?} s"
  (( BED_FAILS > f0 )) && bed_dump "${logs[@]}"
  rm -f "$W"/out"$run".*.bin
}

run_slow 1
bed_check "node3 (downstream of the slow node) done > 3 s before node2: forwarding before writing" \
  faster_by "$T3" "$T2" 3
for i in 1 2 3; do
  bed_check "[1] node$i never held the chain back (node2's buffer had room)" held_is "$W/report1.json" "node$i" none 0
done

run_slow 2 --buffer 8MiB
echo "    (node$SLOW --buffer 8MiB < stream: the chain waits for node$SLOW's consumer; node3 - node2 =" \
     "$(awk -v a="${T3:-0}" -v b="${T2:-0}" 'BEGIN{printf "%.2f", a-b}') s)"
bed_check "[2] the sender names node2's output, once" \
  bash -c "[[ \$(grep -c 'node node2 holds its chain back: its output' '$W/send2.log.err') == 1 ]]"
bed_check "[2] the sender names nobody else" \
  bash -c "! grep 'holds its chain back' '$W/send2.log.err' | grep -qv 'node node2 '"
bed_check "[2] report: node2 held the chain back by its output for 1 s or more" \
  held_is "$W/report2.json" node2 output 1
for i in 1 3; do
  bed_check "[2] report: node$i never held the chain back" held_is "$W/report2.json" "node$i" none 0
done

echo "== run 3: $(( BYTES >> 20 )) MiB, node$SLOW's link at 50 Mbit/s (its switch port), the others unshaped"
f0=$BED_FAILS
bed_shape_dev "$BED_SW" "p$SLOW" 50mbit || bed_die "cannot shape p$SLOW"
S=slow3.$$
ka_bg 0 "$W/send3.log" send --nodes "$N" --session "$S" --secret-file "$W/secret" --buffer 16MiB \
  --report "$W/report3.json" "$W/src.bin"
spid=$BED_LAST_PID
logs=("$W/send3.log")
pids=()
for (( i = 1; i <= N; i++ )); do
  ka_bg "$i" "$W/r3.$i.log" receive --session "$S" --secret-file "$W/secret" --name "node$i" --buffer 16MiB \
    --output "$W/out3.$i.bin"
  pids[i]=$BED_LAST_PID
  logs+=("$W/r3.$i.log")
done
bed_check "[3] sender exits 0" ka_rc_is 0 "$spid"
for (( i = 1; i <= N; i++ )); do
  bed_check "[3] receiver node$i exits 0" ka_rc_is 0 "${pids[i]}"
  bed_check "[3] node$i output == source (cmp)" ka_same "$W/src.bin" "$W/out3.$i.bin"
done
bed_check "[3] the sender names node2's link, once" \
  bash -c "[[ \$(grep -c 'node node2 holds its chain back: it takes the data slower than node1 sends it' '$W/send3.log.err') == 1 ]]"
bed_check "[3] the sender names nobody else" \
  bash -c "! grep 'holds its chain back' '$W/send3.log.err' | grep -qv 'node node2 '"
bed_check "[3] report: node2 held the chain back by its link for 2 s or more" held_is "$W/report3.json" node2 link 2
for i in 1 3; do
  bed_check "[3] report: node$i never held the chain back" held_is "$W/report3.json" "node$i" none 0
done
(( BED_FAILS > f0 )) && bed_dump "${logs[@]}"
rm -f "$W"/out3.*.bin

if (( BED_FAILS )); then echo "slow_consumer: FAIL ($BED_FAILS checks failed)"; exit 1; fi
echo "slow_consumer: PASS"
