#!/usr/bin/env bash
# System test: a resume that needs data no longer held anywhere.
#  Stream source (stdin, cannot be re-read), chain sender -> node1 -> node2 -> node3.
#  node3's local command does not read for 10 s and node3 has a small buffer, so node3 falls far behind
#  while node1 (8 MiB buffer) and the sender (4 MiB) move on. node2 is then killed: node3 must resume
#  from node1, whose window no longer holds node3's position, and the sender cannot replay a stream.
#  Expected: node3 fails with a clear message naming the replay window, node2 is KO (lost), node1 goes
#  on and is byte-exact; the sender exits 1 and nothing hangs.
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
bed_up 3 || exit 1
bed_secret "$W/secret"
head -c "$BYTES" /dev/urandom >"$W/src.bin"

S=window.$$
BED_STDIN=$W/src.bin ka_bg 0 "$W/send.log" send --nodes 3 --session "$S" --secret-file "$W/secret" \
  --buffer 4MiB --report "$W/report.json" -
spid=$BED_LAST_PID
ka_bg 1 "$W/r1.log" receive --session "$S" --secret-file "$W/secret" --name node1 --buffer 8MiB --output "$W/out1"
p1=$BED_LAST_PID
ka_bg 2 "$W/r2.log" receive --session "$S" --secret-file "$W/secret" --name node2 --output "$W/out2"
p2=$BED_LAST_PID
ka_bg 3 "$W/r3.log" receive --session "$S" --secret-file "$W/secret" --name node3 --buffer 4MiB \
  --exec "sleep 10; cat > $W/out3"
p3=$BED_LAST_PID
for _ in $(seq 100); do grep -q "chain (epoch 1)" "$W/send.log.err" 2>/dev/null && break; sleep 0.1; done
sleep 3
victim=$(ka_real_pid "$p2" 5)
bed_check "found node2's ka process" test -n "$victim"
kill -KILL "$victim" 2>/dev/null
rc=0; bed_wait "$spid" || rc=$?
bed_check "sender exits 1" test "$rc" -eq 1
rc=0; bed_wait "$p1" || rc=$?
bed_check "node1 exits 0" test "$rc" -eq 0
bed_check "node1 byte-exact" cmp -s "$W/src.bin" "$W/out1"
rc=0; bed_wait "$p3" || rc=$?
bed_check "node3 exits non-zero" test "$rc" -ne 0
bed_check "node3 says its data is no longer held" grep -q "no longer held anywhere" "$W/r3.log.err"
bed_wait "$p2" || true
bed_check "report: node1 ok, node2 and node3 ko, node3 for the replay window" \
  ka_check_report "$W/report.json" "$BYTES" "node1" "node2,node3" "no longer held|lost contact"
if (( BED_FAILS )); then
  bed_dump "$W/send.log" "$W/r1.log" "$W/r3.log"
  echo "replay_window: FAIL ($BED_FAILS checks failed)"; exit 1
fi
echo "replay_window: PASS"
