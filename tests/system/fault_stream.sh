#!/usr/bin/env bash
# System test: healing with a STREAM source (stdin), which the sender cannot re-read, so every resume
# must come from a neighbour's replay window (each member keeps data until its grandchild has it).
#  Run 1: node2 (middle) frozen mid-stream; run 2: node1 (first) killed mid-stream.
#  Survivors byte-exact, victim KO, sender exits 1, and nobody was fed "directly from the source".
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
KA_TIMEOUT=${KA_TIMEOUT:-60}
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

bed_require_root
bed_require_ka
bed_trap
bed_workdir
W=$BED_WORK
MIB=256
BYTES=$(( MIB << 20 ))
N=4
bed_up "$N" 400mbit || exit 1
bed_secret "$W/secret"
head -c "$BYTES" /dev/urandom >"$W/src.bin"

run() {   # run RUN SIGNAL VICTIM
  local run=$1 sig=$2 v=$3 S=fstream$1.$$ i spid vpid rc ok=() rp=()
  echo "== run $run: SIG$sig node$v mid-stream, stdin source"
  BED_STDIN=$W/src.bin ka_bg 0 "$W/send$run.log" send --nodes "$N" --session "$S" --secret-file "$W/secret" \
    --node-timeout 3 --report "$W/report$run.json" -
  spid=$BED_LAST_PID
  for (( i = 1; i <= N; i++ )); do
    ka_bg "$i" "$W/r$run.$i.log" receive --session "$S" --secret-file "$W/secret" --name "node$i" \
      --output "$W/out$run.$i"
    rp[i]=$BED_LAST_PID
    (( i != v )) && ok+=("node$i")
  done
  # mid-stream: the last node holds a third of the stream
  for _ in $(seq 300); do
    (( $(stat -c %s "$W/out$run.$N.ka-incomplete" 2>/dev/null || echo 0) > BYTES / 3 )) && break
    sleep 0.1
  done
  vpid=$(ka_real_pid "${rp[v]}" 5)
  bed_check "found node$v's ka process" test -n "$vpid"
  kill -s "$sig" "$vpid"
  rc=0; bed_wait "$spid" || rc=$?
  bed_check "sender exits 1" test "$rc" -eq 1
  [[ $sig == STOP ]] && kill -s CONT "$vpid"
  for (( i = 1; i <= N; i++ )); do
    rc=0; bed_wait "${rp[i]}" || rc=$?
    if (( i == v )); then
      bed_check "victim node$i exits non-zero" test "$rc" -ne 0
      bed_check "victim node$i has no output at PATH" test ! -e "$W/out$run.$i"
    else
      bed_check "node$i exits 0" test "$rc" -eq 0
      bed_check "node$i byte-exact" cmp -s "$W/src.bin" "$W/out$run.$i"
    fi
  done
  bed_check "no node needed a direct feed from the source" bash -c "! grep -q 'directly from the source' '$W/send$run.log.err'"
  bed_check "report: victim KO, others OK" ka_check_report "$W/report$run.json" "$BYTES" "$(IFS=,; echo "${ok[*]}")" "node$v"
}

run 1 STOP 2
run 2 KILL 1

if (( BED_FAILS )); then echo "fault_stream: FAIL ($BED_FAILS checks failed)"; exit 1; fi
echo "fault_stream: PASS"
