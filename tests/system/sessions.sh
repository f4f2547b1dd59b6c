#!/usr/bin/env bash
# System test 3: session names keep sessions apart (no secret: also checks the loud warnings).
#  - receivers start first: h1, h2 for session "alpha", h3 for session "beta" with --wait 8;
#  - then the sender h0 for "alpha" --nodes 2;
#  - beta receiver exits non-zero after ~8 s (no sender answered) without an output file;
#  - alpha completes with exactly node1 and node2, byte-exact; sender exit 0.
# Env: KA_BIN, KA_TIMEOUT (s, default 120), KA_KEEP=1.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

BYTES=$(( 24 << 20 ))
bed_begin 3 "" "$BYTES"   # (the sessions below run without $W/secret)
A=alpha$$
B=beta$$
logs=("$W/send.log" "$W/r1.log" "$W/r2.log" "$W/r3.log")

echo "== receivers first: h1,h2 session $A; h3 session $B (--wait 8)"
ka_bg 3 "$W/r3.log" receive --session "$B" --name node3 --wait 8 --output "$W/out3.bin"
p3=$BED_LAST_PID
t3=$(date +%s)
ka_bg 1 "$W/r1.log" receive --session "$A" --name node1 --output "$W/out1.bin"
p1=$BED_LAST_PID
ka_bg 2 "$W/r2.log" receive --session "$A" --name node2 --output "$W/out2.bin"
p2=$BED_LAST_PID
sleep 1
echo "== sender h0: session $A, --nodes 2, no secret"
ka_bg 0 "$W/send.log" send --nodes 2 --session "$A" --report "$W/report.json" "$W/src.bin"
spid=$BED_LAST_PID

bed_check "beta receiver exits non-zero" ka_rc_is nz "$p3"
dt=$(( $(date +%s) - t3 ))
bed_check "beta receiver gave up after about --wait 8 (took ${dt}s, want 6..30)" \
  test "$dt" -ge 6 -a "$dt" -le 30
bed_check "sender exits 0" ka_rc_is 0 "$spid"
bed_check "node1 exits 0" ka_rc_is 0 "$p1"
bed_check "node2 exits 0" ka_rc_is 0 "$p2"
bed_check "node1 output == source" ka_same "$W/src.bin" "$W/out1.bin"
bed_check "node2 output == source" ka_same "$W/src.bin" "$W/out2.bin"
bed_check "report: exactly node1,node2 ok, ko empty" ka_check_report "$W/report.json" "$BYTES" node1,node2 ""
bed_check "beta receiver explains on stderr" test -s "$W/r3.log.err"
bed_check "beta receiver: no output file" test ! -e "$W/out3.bin"
bed_check "sender warns about running without a secret" grep -qi 'warn' "$W/send.log" "$W/send.log.err"
bed_check "receiver warns about running without a secret" grep -qi 'warn' "$W/r1.log" "$W/r1.log.err"

if (( BED_FAILS )); then
  bed_dump "${logs[@]}"
  echo "sessions: FAIL ($BED_FAILS checks failed)"; exit 1
fi
echo "sessions: PASS"
