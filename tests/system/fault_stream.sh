#!/usr/bin/env bash
# System test: healing with a STREAM source (stdin), which the sender cannot re-read, so every resume
# must come from a neighbour's replay window (each member keeps data until its grandchild has it).
#  Run 1: node2 (middle) frozen mid-stream; run 2: node1 (first) killed mid-stream.
#  Survivors byte-exact, victim KO, sender exits 1, and nobody was fed "directly from the source".
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
KA_TIMEOUT=${KA_TIMEOUT:-60}
# shellcheck source=../lib/fault.bash
. "$(dirname "$0")/../lib/fault.bash"
fault_begin 4 400mbit 256

run() {   # run RUN SIGNAL VICTIM
  local run=$1 sig=$2 v=$3 tag=run$1 i vpid rc
  echo "== run $run: SIG$sig node$v mid-stream, stdin source"
  fault_chain "$tag" - --node-timeout 3
  # mid-stream: the last node holds a third of the stream
  fault_wait_size "$W/$tag.out$N" $(( BYTES / 3 + 1 )) 30
  vpid=$(ka_real_pid "${FAULT_RPID[v]}" 5)
  bed_check "found node$v's ka process" test -n "$vpid"
  kill -s "$sig" "$vpid"
  rc=0; bed_wait "$FAULT_SPID" || rc=$?
  bed_check "sender exits 1" test "$rc" -eq 1
  [[ $sig == STOP ]] && kill -s CONT "$vpid"
  for (( i = 1; i <= N; i++ )); do
    rc=0; bed_wait "${FAULT_RPID[i]}" || rc=$?
    if (( i == v )); then
      bed_check "victim node$i exits non-zero" test "$rc" -ne 0
      bed_check "victim node$i has no output at PATH" test ! -e "$W/$tag.out$i"
    else
      bed_check "node$i exits 0" test "$rc" -eq 0
      bed_check "node$i byte-exact" cmp -s "$W/src.bin" "$W/$tag.out$i"
    fi
  done
  bed_check "no node needed a direct feed from the source" bash -c "! grep -q 'directly from the source' '$W/$tag.send.log.err'"
  bed_check "report: victim KO, others OK" ka_check_report "$W/$tag.report.json" "$BYTES" "$(fault_names_except "$v")" "node$v"
}

run 1 STOP 2
run 2 KILL 1
fault_end fault_stream
