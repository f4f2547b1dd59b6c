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
# shellcheck source=../lib/bed.sh
. "$(dirname "$0")/../lib/bed.sh"

bed_require_root
bed_require_ka
bed_trap
bed_workdir
W=$BED_WORK
MIB=${KA_TEST_MIB:-256}
BYTES=$(( MIB << 20 ))
N=4
RATE=${KA_FAULT_RATE:-400mbit}
LIMIT=15          # s: every receiver must be gone this long after the sender's death

bed_up "$N" "$RATE" || exit 1
bed_secret "$W/secret"
head -c "$BYTES" /dev/urandom >"$W/src.bin"

# sender_err LOG: the lines of LOG that mention the sender, except info/debug log lines
# ("found the sender of session ..." is logged by every receiver at the start)
sender_err() { grep -i sender "$1" | grep -vE '^[0-9:.]+ +(info|debug) '; }

echo "== SIGKILL the sender at middle, $MIB MiB over $RATE"
S=fsnd$$
ka_bg 0 "$W/send.log" send --nodes "$N" --session "$S" --secret-file "$W/secret" \
  --report "$W/report.json" "$W/src.bin"
spid=$BED_LAST_PID
logs=("$W/send.log")
rpid=() kpid=()
for (( i = 1; i <= N; i++ )); do
  ka_bg "$i" "$W/r$i.log" receive --session "$S" --secret-file "$W/secret" --name "node$i" \
    --output "$W/out$i.bin"
  rpid[i]=$BED_LAST_PID
  logs+=("$W/r$i.log")
done

if fault_wait_point middle "$W/send.log.err" "$W/out1.bin" "$W/out$N.bin" "$BYTES"; then
  for (( i = 1; i <= N; i++ )); do kpid[i]=$(ka_real_pid "${rpid[i]}" 0); done
  if sp=$(ka_real_pid "$spid" 0) && tf=$EPOCHREALTIME && fault_kill_wait "$spid" "$sp"; then
    echo "    SIGKILL sender (ka pid $sp); bytes written then:" \
      "$(for (( i = 1; i <= N; i++ )); do printf 'node%d=%dMiB ' "$i" $(( $(fault_size "$W/out$i.bin") >> 20 )); done)"
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
    bed_check "node$i exits non-zero" ka_rc_is nz "${rpid[i]}"
    bed_check "node$i stderr mentions the sender in a non-info line" bed_quiet sender_err "$W/r$i.log.err"
    sender_err "$W/r$i.log.err" | tail -n 2 | sed "s/^/    node$i: /"
    bed_check "no output file at node$i's PATH" test ! -e "$W/out$i.bin"
  done
else
  bed_check "fault point 'middle' reached (stream started and progressed)" false
fi
fault_reap "$spid" "${rpid[@]}"
(( BED_FAILS )) && bed_dump "${logs[@]}"

echo "== summary"
echo "  SIGKILL sender at middle: $( ((BED_FAILS)) && echo "FAIL ($BED_FAILS checks)" || echo PASS) stall=n/a"
if (( BED_FAILS )); then echo "fault_sender: FAIL ($BED_FAILS checks failed)"; exit 1; fi
echo "fault_sender: PASS"
