#!/usr/bin/env bash
# System test: a chain of 32 receivers that find the sender by broadcast, on 100 Mbit/s links.
#  run 1: 64 MiB to 32 nodes (--output /dev/null): every node OK with the sender's digest.
#  run 2: the same beside a CPU hog (one busy process per core): no node is dropped as frozen.
# At 32 nodes on one host the joins and the first heartbeats compete for 2 cores; a node that is
# slow to join or busy must never read as frozen (issue: OK 0 / KO 32 at N = 32).
# Env: KA_BIN, KA_TIMEOUT (s, default 180), KA_SCALE_N (default 32), KA_KEEP=1.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

N=${KA_SCALE_N:-32}
MIB=64
KA_TIMEOUT=${KA_TIMEOUT:-180}
bed_begin "$N" 100mbit $(( MIB << 20 ))

run() {   # run TAG: one session to N nodes; checks exit codes and the report
  local tag=$1 S=scale$1$$ i spid rc f0=$BED_FAILS
  local -a rpid=() names=()
  ka_bg 0 "$W/send.$tag.log" send --nodes "$N" --session "$S" --secret-file "$W/secret" \
    --session-dir none --report "$W/report.$tag.json" "$W/src.bin"
  spid=$BED_LAST_PID
  for (( i = 1; i <= N; i++ )); do
    ka_bg "$i" "$W/r.$tag.$i.log" receive --session "$S" --secret-file "$W/secret" --name "node$i" \
      --output /dev/null
    rpid[i]=$BED_LAST_PID
    names+=("node$i")
  done
  bed_check "[$tag] sender exits 0" ka_rc_is 0 "$spid"
  rc=0
  for (( i = 1; i <= N; i++ )); do ka_rc_is 0 "${rpid[i]}" >/dev/null || rc=1; done
  bed_check "[$tag] all $N receivers exit 0" test "$rc" = 0
  bed_check "[$tag] report: $N ok nodes, ko empty, one digest" \
    ka_check_report "$W/report.$tag.json" $(( MIB << 20 )) "$(IFS=,; echo "${names[*]}")" ""
  bed_check "[$tag] no node was dropped as frozen" bash -c "! grep -q 'no heartbeat' '$W/send.$tag.log.err'"
  if (( BED_FAILS > f0 )); then
    bed_dump "$W/send.$tag.log"
    grep -h -E 'FAILED|error' "$W"/r."$tag".*.log.err | head -20
  fi
}

echo "== run 1: $MIB MiB -> $N receivers, 100 Mbit/s links, discovery"
run quiet

echo "== run 2: the same beside a CPU hog ($(nproc) busy processes)"
bed_hog_start
run loaded
bed_hog_stop

(( BED_FAILS == 0 )) || { echo "FAILED: $BED_FAILS check(s)"; exit 1; }
echo "PASS"
