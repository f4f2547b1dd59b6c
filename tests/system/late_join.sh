#!/usr/bin/env bash
# System test: late joiners and the limits of the replay window.
#  1. File source: the sender starts with 2 of 3 nodes (--start-after); the third joins 3 s later, is
#     added at the tail and catches up (from the tail's replay window or a direct branch from the file):
#     all 3 byte-exact, report 3 ok.
#  2. Stream source (stdin): a node joining after the start is refused with a clear message naming the
#     stream; the 2 others complete byte-exact.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
KA_TIMEOUT=${KA_TIMEOUT:-90}
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

MIB=192
BYTES=$(( MIB << 20 ))
bed_begin 3 400mbit "$BYTES"

# receive RUN I [OPTION...]: ka receive on hI as nodeI in session S into $W/outRUN.I (log
# $W/rRUN.I.log); its PID appended to rp
receive() {
  local run=$1 i=$2
  shift 2
  ka_bg "$i" "$W/r$run.$i.log" receive --session "$S" --secret-file "$W/secret" --name "node$i" "$@" \
    --output "$W/out$run.$i"
  rp+=("$BED_LAST_PID")
}
# exits_0 WHAT PID: bed_check that PID (a ka_bg process) exits 0
exits_0() {
  local rc=0
  bed_wait "$2" || rc=$?
  bed_check "$1 exits 0" test "$rc" -eq 0
}
# nodes_done RUN I...: bed_checks that node I (PID rp[I-1]) exits 0 and wrote the source, byte-exact
nodes_done() {
  local run=$1 i
  shift
  for i in "$@"; do
    exits_0 "node$i" "${rp[i-1]}"
    bed_check "node$i byte-exact" cmp -s "$W/src.bin" "$W/out$run.$i"
  done
}

echo "== 1: file source, node3 joins 3 s after the start"
S=late1.$$
ka_bg 0 "$W/send1.log" send --nodes 3 --start-after 1 --session "$S" --secret-file "$W/secret" \
  --report "$W/report1.json" "$W/src.bin"
spid=$BED_LAST_PID
rp=()
receive 1 1
receive 1 2
sleep 4
receive 1 3
exits_0 sender "$spid"
nodes_done 1 1 2 3
bed_check "the sender logged node3 as a late joiner" grep -q "late joiner node3" "$W/send1.log.err"
bed_check "report: 3 ok" ka_check_report "$W/report1.json" "$BYTES" "node1,node2,node3" ""

echo "== 2: stream source (stdin): a late joiner is refused"
S=late2.$$
BED_STDIN=$W/src.bin ka_bg 0 "$W/send2.log" send --nodes 2 --session "$S" --secret-file "$W/secret" \
  --report "$W/report2.json" -
spid=$BED_LAST_PID
rp=()
receive 2 1
receive 2 2
for _ in $(seq 50); do grep -q "chain (epoch 1)" "$W/send2.log.err" 2>/dev/null && break; sleep 0.1; done
receive 2 3 --wait 5
lpid=$BED_LAST_PID
rc=0; bed_wait "$lpid" || rc=$?
bed_check "late joiner exits non-zero" test "$rc" -ne 0
bed_check "late joiner is told the source is a stream" grep -qi "stream" "$W/r2.3.log.err"
bed_check "late joiner has no output" test ! -e "$W/out2.3"
exits_0 sender "$spid"
nodes_done 2 1 2
bed_check "report: 2 ok" ka_check_report "$W/report2.json" "$BYTES" "node1,node2" ""

if (( BED_FAILS )); then echo "late_join: FAIL ($BED_FAILS checks failed)"; exit 1; fi
echo "late_join: PASS"
