#!/usr/bin/env bash
# System test: a resume that needs data no longer held anywhere.
#  Every member keeps data until its grandchild has it, so one failure never exhausts the window; two
#  adjacent failures can. Stream source (stdin, cannot be re-read); chain node1 -> node2 -> node3 -> node4.
#  node4's local command does not read for 10 s and node4 has a 4 MiB buffer, so node4 stays near the start
#  while node3 runs 128 MiB ahead of it and node1 keeps only what node3 lacks. node2 and node3 are then
#  killed at once: node4 must resume from node1, whose window no longer holds its position, and the
#  sender cannot replay a stream.
#  Expected: node4 fails with a clear message ("no longer held anywhere"), node2 and node3 are KO (lost),
#  node1 goes on and is byte-exact; the sender exits 1 and nothing hangs.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
KA_TIMEOUT=${KA_TIMEOUT:-90}
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

bed_require_root
bed_require_ka
bed_trap
bed_workdir
W=$BED_WORK
MIB=256
BYTES=$(( MIB << 20 ))
bed_up 4 || exit 1
bed_secret "$W/secret"
head -c "$BYTES" /dev/urandom >"$W/src.bin"

S=window.$$
BED_STDIN=$W/src.bin ka_bg 0 "$W/send.log" send --nodes 4 --session "$S" --secret-file "$W/secret" \
  --report "$W/report.json" -
spid=$BED_LAST_PID
for i in 1 2 3; do
  ka_bg "$i" "$W/r$i.log" receive --session "$S" --secret-file "$W/secret" --name "node$i" --output "$W/out$i"
  rp[i]=$BED_LAST_PID
done
ka_bg 4 "$W/r4.log" receive --session "$S" --secret-file "$W/secret" --name node4 --buffer 4MiB \
  --exec "sleep 10; cat > $W/out4"
rp[4]=$BED_LAST_PID
for _ in $(seq 100); do grep -q "chain (epoch 1)" "$W/send.log.err" 2>/dev/null && break; sleep 0.1; done
sleep 3
v2=$(ka_real_pid "${rp[2]}" 5)
v3=$(ka_real_pid "${rp[3]}" 5)
bed_check "found node2's and node3's ka processes" test -n "$v2" -a -n "$v3"
kill -KILL "$v2" "$v3" 2>/dev/null
rc=0; bed_wait "$spid" || rc=$?
bed_check "sender exits 1" test "$rc" -eq 1
rc=0; bed_wait "${rp[1]}" || rc=$?
bed_check "node1 exits 0" test "$rc" -eq 0
bed_check "node1 byte-exact" cmp -s "$W/src.bin" "$W/out1"
rc=0; bed_wait "${rp[4]}" || rc=$?
bed_check "node4 exits non-zero" test "$rc" -ne 0
bed_check "node4 says its data is no longer held" grep -q "no longer held anywhere" "$W/r4.log.err"
bed_wait "${rp[2]}" || true
bed_wait "${rp[3]}" || true
bed_check "report: node1 ok; node2, node3 and node4 ko" \
  ka_check_report "$W/report.json" "$BYTES" "node1" "node2,node3,node4" "no longer held|lost contact"
if (( BED_FAILS )); then
  bed_dump "$W/send.log" "$W/r1.log" "$W/r4.log"
  echo "replay_window: FAIL ($BED_FAILS checks failed)"; exit 1
fi
echo "replay_window: PASS"
