#!/usr/bin/env bash
# System test 11: the sender dies in the middle of the stream.
#  256 MiB random file, sender h0 (--secret-file), receivers h1..h4 on 400mbit links. When node4
#  holds 50 % of the stream, the `ka send` process itself (its real PID, not the wrappers) gets
#  SIGKILL. Every receiver must exit non-zero by itself within 15 s, say on stderr something
#  about the sender (grep -i sender, info/debug lines excepted), and leave no output file at its PATH (at most
#  PATH.ka-incomplete). Prints "stall=n/a" (no survivors) to keep the fault_* output uniform.
# Env: KA_BIN, KA_TIMEOUT (s, default 45 here), KA_TEST_MIB (default 256), KA_FAULT_RATE
#      (default 400mbit), KA_KEEP=1.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
KA_TIMEOUT=${KA_TIMEOUT:-45}
# shellcheck source=../lib/fault.bash
. "$(dirname "$0")/../lib/fault.bash"
LIMIT=15          # s: every receiver must be gone this long after the sender's death
fault_begin 4 "${KA_FAULT_RATE:-400mbit}" "${KA_TEST_MIB:-256}"

# sender_err LOG: the lines of LOG that mention the sender, except info/debug log lines
# ("found the sender of session ..." is logged by every receiver at the start)
sender_err() { grep -i sender "$1" | grep -vE '^[0-9:.]+ +(info|debug) '; }

echo "== SIGKILL the sender at middle, $MIB MiB over $RATE"
f0=$BED_FAILS
fault_chain run1 "$W/src.bin"
spid=$FAULT_SPID
kpid=()
if fault_wait_point middle "$W/run1.send.log.err" "$W/run1.out1" "$W/run1.out$N" "$BYTES"; then
  for (( i = 1; i <= N; i++ )); do kpid[i]=$(ka_real_pid "${FAULT_RPID[i]}" 0); done
  if sp=$(ka_real_pid "$spid" 0) && tf=$EPOCHREALTIME && fault_kill_wait "$spid" "$sp"; then
    echo "    SIGKILL sender (ka pid $sp); bytes written then: $(fault_written run1)"
  else
    tf=$EPOCHREALTIME
    bed_check "found and killed the ka send process" false
  fi
  wait "$spid" 2>/dev/null
  # every receiver must be gone within LIMIT seconds of the kill
  for (( i = 1; i <= N; i++ )); do
    left=$(awk -v a="$tf" -v b="$EPOCHREALTIME" -v l="$LIMIT" 'BEGIN { x = l - (b - a); print (x > 0 ? int(x + 0.999) : 0) }')
    if [[ -n ${kpid[i]} ]] && ! fault_wait_gone "${kpid[i]}" "$left"; then
      bed_check "node$i exits within ${LIMIT}s of the sender's death" false
      kill -KILL "${kpid[i]}" 2>/dev/null
    else
      echo "    node$i gone $(awk -v a="$tf" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s after the kill (or earlier)"
      bed_check "node$i exits within ${LIMIT}s of the sender's death" true
    fi
  done
  for (( i = 1; i <= N; i++ )); do
    bed_check "node$i exits non-zero" ka_rc_is nz "${FAULT_RPID[i]}"
    bed_check "node$i stderr mentions the sender in a non-info line" bed_quiet sender_err "$W/run1.r$i.log.err"
    sender_err "$W/run1.r$i.log.err" | tail -n 2 | sed "s/^/    node$i: /"
    bed_check "no output file at node$i's PATH" test ! -e "$W/run1.out$i"
  done
else
  bed_check "fault point 'middle' reached (stream started and progressed)" false
fi
fault_reap "$spid" "${FAULT_RPID[@]}"
fault_note "$f0" "SIGKILL sender at middle" "stall=n/a"
fault_end fault_sender
