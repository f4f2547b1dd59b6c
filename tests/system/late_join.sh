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

echo "== 1: file source, node3 joins 3 s after the start"
S=late1.$$
ka_bg 0 "$W/send1.log" send --nodes 3 --start-after 1 --session "$S" --secret-file "$W/secret" \
  --report "$W/report1.json" "$W/src.bin"
spid=$BED_LAST_PID
rp=()
for i in 1 2; do
  ka_bg "$i" "$W/r1.$i.log" receive --session "$S" --secret-file "$W/secret" --name "node$i" --output "$W/out1.$i"
  rp+=("$BED_LAST_PID")
done
sleep 4
ka_bg 3 "$W/r1.3.log" receive --session "$S" --secret-file "$W/secret" --name node3 --output "$W/out1.3"
rp+=("$BED_LAST_PID")
rc=0; bed_wait "$spid" || rc=$?
bed_check "sender exits 0" test "$rc" -eq 0
for i in 1 2 3; do
  rc=0; bed_wait "${rp[i-1]}" || rc=$?
  bed_check "node$i exits 0" test "$rc" -eq 0
  bed_check "node$i byte-exact" cmp -s "$W/src.bin" "$W/out1.$i"
done
bed_check "the sender logged node3 as a late joiner" grep -q "late joiner node3" "$W/send1.log.err"
bed_check "report: 3 ok" ka_check_report "$W/report1.json" "$BYTES" "node1,node2,node3" ""

echo "== 2: stream source (stdin): a late joiner is refused"
S=late2.$$
BED_STDIN=$W/src.bin ka_bg 0 "$W/send2.log" send --nodes 2 --session "$S" --secret-file "$W/secret" \
  --report "$W/report2.json" -
spid=$BED_LAST_PID
rp=()
for i in 1 2; do
  ka_bg "$i" "$W/r2.$i.log" receive --session "$S" --secret-file "$W/secret" --name "node$i" --output "$W/out2.$i"
  rp+=("$BED_LAST_PID")
done
for _ in $(seq 50); do grep -q "chain (epoch 1)" "$W/send2.log.err" 2>/dev/null && break; sleep 0.1; done
ka_bg 3 "$W/r2.3.log" receive --session "$S" --secret-file "$W/secret" --name node3 --wait 5 --output "$W/out2.3"
lpid=$BED_LAST_PID
rc=0; bed_wait "$lpid" || rc=$?
bed_check "late joiner exits non-zero" test "$rc" -ne 0
bed_check "late joiner is told the source is a stream" grep -qi "stream" "$W/r2.3.log.err"
bed_check "late joiner has no output" test ! -e "$W/out2.3"
rc=0; bed_wait "$spid" || rc=$?
bed_check "sender exits 0" test "$rc" -eq 0
for i in 1 2; do
  rc=0; bed_wait "${rp[i-1]}" || rc=$?
  bed_check "node$i exits 0" test "$rc" -eq 0
  bed_check "node$i byte-exact" cmp -s "$W/src.bin" "$W/out2.$i"
done
bed_check "report: 2 ok" ka_check_report "$W/report2.json" "$BYTES" "node1,node2" ""

if (( BED_FAILS )); then echo "late_join: FAIL ($BED_FAILS checks failed)"; exit 1; fi
echo "late_join: PASS"
