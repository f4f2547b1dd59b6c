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
# shellcheck source=../lib/fault.bash
. "$(dirname "$0")/../lib/fault.bash"
fault_begin 4 "" 256

# node4: a 4 MiB buffer and a local command that reads nothing for 10 s (FAULT_SINK_FN)
# shellcheck disable=SC2317
slow_node4() { (( $2 == 4 )) && FAULT_SINK=(--buffer 4MiB --exec "sleep 10; cat > $W/$1.out4"); return 0; }
FAULT_SINK_FN=slow_node4
fault_chain run1 -
fault_wait_log "$W/run1.send.log.err" "chain \(epoch 1\)" 10
sleep 3
v2=$(ka_real_pid "${FAULT_RPID[2]}" 5)
v3=$(ka_real_pid "${FAULT_RPID[3]}" 5)
bed_check "found node2's and node3's ka processes" test -n "$v2" -a -n "$v3"
kill -KILL "$v2" "$v3" 2>/dev/null
rc=0; bed_wait "$FAULT_SPID" || rc=$?
bed_check "sender exits 1" test "$rc" -eq 1
rc=0; bed_wait "${FAULT_RPID[1]}" || rc=$?
bed_check "node1 exits 0" test "$rc" -eq 0
bed_check "node1 byte-exact" cmp -s "$W/src.bin" "$W/run1.out1"
rc=0; bed_wait "${FAULT_RPID[4]}" || rc=$?
bed_check "node4 exits non-zero" test "$rc" -ne 0
bed_check "node4 says its data is no longer held" grep -q "no longer held anywhere" "$W/run1.r4.log.err"
bed_wait "${FAULT_RPID[2]}" || true
bed_wait "${FAULT_RPID[3]}" || true
bed_check "report: node1 ok; node2, node3 and node4 ko" \
  ka_check_report "$W/run1.report.json" "$BYTES" "node1" "node2,node3,node4" "no longer held|lost contact"
(( BED_FAILS )) && bed_dump "$W/run1.send.log" "$W/run1.r1.log" "$W/run1.r4.log"
fault_end replay_window
